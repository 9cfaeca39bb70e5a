-- +goose Up
-- Word-prefix search (q), as Okta, Entra and Google Workspace search their
-- directories: every term of q must start a word of the email, user name,
-- given or family name. Words are split at whitespace and . _ - @ +, so
-- "ada.lovelace@police.example" is the words ada, lovelace, police and
-- example.
--
-- users.words holds, for each word, its first 1 to 10 characters and the
-- whole word, as the lexemes of a tsvector made without a text search
-- parser (array_to_tsvector): the edge n-grams a search engine indexes for
-- search as you type. A term of up to 10 characters is then one exact
-- lexeme of the GIN index, found as fast as a whole word (a prefix match,
-- 'lov':*, scans the index's entries and costs ten times as much), and
-- PostgreSQL's statistics of the lexemes estimate how many users a term
-- matches, so that the planner walks a sort index for a common term and
-- the words index for a rare one. A longer term is a prefix match on the
-- whole words. users.search and its trigram index stay for SCIM's co/sw/ew.
-- +goose StatementBegin
CREATE FUNCTION user_search_words(names text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(coalesce(array_agg(DISTINCT lexeme), '{}'))
    FROM (SELECT left(word, n) AS lexeme
          FROM regexp_split_to_table(names, '[[:space:]._@+-]+') AS word,
               generate_series(1, least(length(word), 10)) AS n
          UNION ALL
          SELECT word FROM regexp_split_to_table(names, '[[:space:]._@+-]+') AS word
          WHERE length(word) > 10) AS lexemes
$$;
-- +goose StatementEnd
ALTER TABLE users ADD COLUMN words tsvector NOT NULL GENERATED ALWAYS AS (user_search_words(
    lower(email) || ' ' || lower(user_name) || ' ' || lower(given_name) || ' ' || lower(family_name))) STORED;
CREATE INDEX users_words_idx ON users USING gin (words);
-- The planner needs the words' statistics at once, not at the next autovacuum.
ANALYZE users;

-- +goose Down
ALTER TABLE users DROP COLUMN words;
DROP FUNCTION user_search_words(text);
