package roster

import (
	"context"
	"math"
	"time"
)

// SignupDays is how many days of daily sign-up counts the statistics show.
const SignupDays = 30

// StatsFilter narrows the user statistics. Zero values mean "any".
type StatsFilter struct {
	Role   string
	Active *bool
	// Team narrows the statistics to the distinct members of the team
	// and of its subteams, counted live.
	Team string
	// Scope narrows them to the users the caller reaches
	// (Principal.UserScope).
	Scope UserScope
}

// UserStats is the dashboard: counts over a tenant's users (those the
// filter selects), taken from one snapshot so that they add up.
type UserStats struct {
	// AsOf is when the figures were counted: now, except for a large
	// team's, which are counted at most once a minute.
	AsOf          time.Time
	TotalUsers    int64
	ActiveUsers   int64
	InactiveUsers int64
	// Roles counts users by role, with every built-in role present.
	Roles map[string]int64
	// PendingInvitations are the invitations neither accepted, revoked nor
	// expired; the role filter narrows them, the active filter does not.
	PendingInvitations int64
	// SignupsLast7Days and SignupsLast30Days are users created on the last 7
	// and 30 UTC calendar days, today included: sums of Daily's last entries.
	SignupsLast7Days  int64
	SignupsLast30Days int64
	// Daily holds SignupDays entries, oldest first, ending today (UTC).
	Daily []DayCount
	// MFAEnabled users have at least one verified method; MFAMethods counts
	// users by verified method (a user may count under several).
	MFAEnabled  int64
	MFADisabled int64
	MFAMethods  map[string]int64
	// Passkeys of the selected users: synced ones are backed up (a
	// passkey provider syncs them), device-bound ones cannot be
	// (not backup-eligible). One eligible but not yet backed up is neither.
	PasskeysTotal       int64
	PasskeysSynced      int64
	PasskeysDeviceBound int64
	// LockedUsers are locked out now (locked_until in the future).
	LockedUsers int64
	// FailedSignIns24h are the tenant's failed sign-in attempts of the
	// last 24 hours, at accounts that exist or not; the filter does not
	// narrow them (an unknown account has no role).
	FailedSignIns24h int64
	// PendingApproval are waiting for an admin's approval.
	PendingApproval int64
}

// DayCount is a count for one UTC day.
type DayCount struct {
	Date  time.Time // midnight UTC
	Count int64
}

// MFAAdoptionRate is the share of users with a second factor, 0 for none,
// to four decimal places (a dashboard shows a percentage to two).
func (s *UserStats) MFAAdoptionRate() float64 {
	if s.TotalUsers == 0 {
		return 0
	}
	return math.Round(float64(s.MFAEnabled)/float64(s.TotalUsers)*10000) / 10000
}

// StatsService reads the dashboard statistics.
type StatsService interface {
	// UserStats returns a tenant's statistics. EINVALID for an unknown role.
	UserStats(ctx context.Context, tenantID string, f StatsFilter) (*UserStats, error)
}
