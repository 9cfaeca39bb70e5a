package api

import (
	"net/http"

	"github.com/rosterhq/roster"
)

// statsResponse is GET /stats.
type statsResponse struct {
	AsOf               string           `json:"as_of"`
	TotalUsers         int64            `json:"total_users"`
	ActiveUsers        int64            `json:"active_users"`
	InactiveUsers      int64            `json:"inactive_users"`
	Roles              map[string]int64 `json:"roles"`
	PendingInvitations int64            `json:"pending_invitations"`
	RecentSignups      signupsResponse  `json:"recent_signups"`
	MFA                mfaStatsResponse `json:"mfa"`
	Passkeys           passkeyStats     `json:"passkeys"`
	LockedUsers        int64            `json:"locked_users"`
	FailedSignIns24h   int64            `json:"failed_sign_ins_24h"`
	PendingApproval    int64            `json:"pending_approval"`
}

type signupsResponse struct {
	Last7Days  int64           `json:"last_7_days"`
	Last30Days int64           `json:"last_30_days"`
	Daily      []dayCountEntry `json:"daily"`
}

type dayCountEntry struct {
	Date  string `json:"date"`
	Count int64  `json:"count"`
}

type mfaStatsResponse struct {
	Enabled      int64            `json:"enabled"`
	Disabled     int64            `json:"disabled"`
	AdoptionRate float64          `json:"adoption_rate"`
	Methods      map[string]int64 `json:"methods"`
}

type passkeyStats struct {
	Total       int64 `json:"total"`
	Synced      int64 `json:"synced"`
	DeviceBound int64 `json:"device_bound"`
}

func newStatsResponse(st *roster.UserStats) statsResponse {
	daily := make([]dayCountEntry, len(st.Daily))
	for i, d := range st.Daily {
		daily[i] = dayCountEntry{Date: d.Date.UTC().Format("2006-01-02"), Count: d.Count}
	}
	return statsResponse{
		AsOf:       timestamp(st.AsOf),
		TotalUsers: st.TotalUsers, ActiveUsers: st.ActiveUsers, InactiveUsers: st.InactiveUsers,
		Roles: st.Roles, PendingInvitations: st.PendingInvitations,
		RecentSignups: signupsResponse{Last7Days: st.SignupsLast7Days, Last30Days: st.SignupsLast30Days, Daily: daily},
		MFA: mfaStatsResponse{Enabled: st.MFAEnabled, Disabled: st.MFADisabled,
			AdoptionRate: st.MFAAdoptionRate(), Methods: st.MFAMethods},
		Passkeys:         passkeyStats{Total: st.PasskeysTotal, Synced: st.PasskeysSynced, DeviceBound: st.PasskeysDeviceBound},
		LockedUsers:      st.LockedUsers,
		FailedSignIns24h: st.FailedSignIns24h,
		PendingApproval:  st.PendingApproval,
	}
}

// getStats serves GET /stats: the dashboard, narrowed by role, active and
// team, within the caller's scope.
func (s *Server) getStats(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "role", "active", "team"); err != nil {
		s.Error(w, r, err)
		return
	}
	uf, fields := parseUserFilter(query)
	if len(fields) > 0 {
		s.Error(w, r, roster.Invalid(fields...))
		return
	}
	st, err := s.Stats.UserStats(r.Context(), tenantID(r), roster.StatsFilter{Role: uf.Role, Active: uf.Active, Team: uf.Team, Scope: userScope(r)})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newStatsResponse(st))
}
