package main_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/pgtest"
)

// TestPurgeCommand: roster purge --dry-run counts without deleting, and
// roster purge deletes, on a database of its own.
func TestPurgeCommand(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	rosterOn(t, dsn, "tenant", "create", "--name", "Purged", "--admin-email", "admin@purged.example")
	if out := string(rosterOn(t, dsn, "purge", "--dry-run")); !strings.HasPrefix(out, "would delete: 0 audit events, 0 sign-ins") {
		t.Fatalf("dry run: %q", out)
	}
	var got struct {
		DryRun  bool `json:"dry_run"`
		Deleted struct {
			AuditEvents int64 `json:"audit_events"`
		}
	}
	if err := json.Unmarshal(rosterOn(t, dsn, "purge", "--json"), &got); err != nil || got.DryRun || got.Deleted.AuditEvents != 0 {
		t.Fatalf("purge: %+v %v", got, err)
	}
}
