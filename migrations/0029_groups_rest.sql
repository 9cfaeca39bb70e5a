-- +goose Up
-- The REST list of SCIM groups: ordered by lower-cased display name and id,
-- with a display-name prefix search. The names are compared byte by byte
-- (COLLATE "C"), so that one index serves the order, the cursor's row
-- comparison and a prefix (LIKE 'abc%' is a range of a C-collated index
-- only) whatever the database's collation.
CREATE INDEX groups_name_order_idx ON groups (tenant_id, (lower(display_name) COLLATE "C"), id);

-- +goose Down
DROP INDEX groups_name_order_idx;
