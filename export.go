package roster

import "context"

// ActionUsersExported records a bulk read of users' data: an export, with
// its filters and format in the details.
const ActionUsersExported = "users.exported"

// Export formats.
const (
	ExportCSV    = "csv"
	ExportNDJSON = "ndjson"
)

// ExportFormats returns the formats users can be exported in.
func ExportFormats() []string { return []string{ExportCSV, ExportNDJSON} }

// ExportedUser is one user of an export: the user and their verified MFA
// methods.
type ExportedUser struct {
	*User
	MFAMethods []string
}

// UserExportService streams a tenant's users.
type UserExportService interface {
	// ExportUsers records the export in the audit trail, then calls each for
	// every user the filter selects (its sort, limit and cursor are
	// ignored), oldest first, in batches read as each is consumed, so that
	// memory stays constant whatever the tenant's size. A filter is checked
	// before anything is recorded or sent. EINVALID for a bad filter;
	// each's error stops the export and is returned.
	ExportUsers(ctx context.Context, tenantID string, by Actor, format string, f UserFilter, each func(*ExportedUser) error) error
}
