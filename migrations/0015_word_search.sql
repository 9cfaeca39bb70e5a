-- +goose Up
-- Word-prefix search (q), as Okta, Entra and Google Workspace search their
-- directories: every term of q must start a word of the email, user name,
-- given or family name. words holds those words, lower-cased and split at
-- whitespace and . _ - @ +, as lexemes of a tsvector made without a text
-- search parser (array_to_tsvector), so "ada.lovelace@police.example" is
-- exactly the words ada, lovelace, police and example. A prefix tsquery
-- ('lov':*) finds them through the GIN index, and PostgreSQL's statistics of
-- the lexemes let the planner walk a sort index instead when a prefix is
-- common. users.search and its trigram index stay for SCIM's co/sw/ew.
ALTER TABLE users ADD COLUMN words tsvector NOT NULL GENERATED ALWAYS AS (
    array_to_tsvector(array_remove(regexp_split_to_array(
        lower(email) || ' ' || lower(user_name) || ' ' || lower(given_name) || ' ' || lower(family_name),
        '[[:space:]._@+-]+'), ''))
) STORED;
CREATE INDEX users_words_idx ON users USING gin (words);
-- The planner needs the words' statistics at once, not at the next autovacuum.
ANALYZE users;

-- +goose Down
ALTER TABLE users DROP COLUMN words;
