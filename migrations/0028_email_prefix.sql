-- +goose Up
-- A search term with an @ after a letter or digit (olga.tanaka@example.org,
-- olga.tanaka@) is the start of an e-mail address: scripts look people up
-- by address. Such a term gives the whole local part, so its users are
-- those of one key of this index, a handful at most, whose addresses then
-- start with the term; equality on an index key is also what lets a
-- prepared statement's one plan use the index (a range of parameters
-- would be estimated at thousands of rows, and planned at every request).
CREATE INDEX users_email_local_idx ON users (tenant_id, split_part(lower(email), '@', 1));
ANALYZE users;

-- +goose Down
DROP INDEX users_email_local_idx;
