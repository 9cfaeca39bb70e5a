package graphql

import (
	"maps"
	"slices"
	"strings"

	"github.com/rosterhq/roster"
)

// The schema's enums are the root's names in capitals: TOTP is totp,
// SET_ROLE is set_role.

func rootName[E ~string](e E) string { return strings.ToLower(string(e)) }

func enumOf[E ~string](name string) E { return E(strings.ToUpper(name)) }

// userFilter is the users list's selection, as REST's q, role, active,
// mfa and mfa_method give it.
func userFilter(in *UserFilter) roster.UserFilter {
	var f roster.UserFilter
	if in == nil {
		return f
	}
	if q := in.Q.Value(); q != nil {
		f.Query = *q
	}
	if role := in.Role.Value(); role != nil {
		f.Role = *role
	}
	if email := in.Email.Value(); email != nil {
		f.Email = *email
	}
	f.Active = in.Active.Value()
	if mfa := in.Mfa.Value(); mfa != nil {
		enabled := *mfa == MFAStateEnabled
		f.MFA = &enabled
	}
	if m := in.MfaMethod.Value(); m != nil {
		f.MFAMethod = rootName(*m)
	}
	f.LastLoginBefore = in.LastLoginBefore.Value()
	if never := in.NeverSignedIn.Value(); never != nil {
		f.NeverSignedIn = *never
	}
	f.PendingApproval = in.PendingApproval.Value()
	return f
}

// ifVersion is the store's ifVersion for an expectedVersion argument: 0
// for none. EINVALID naming the argument below 1.
func ifVersion(expected *int) (int64, error) {
	if expected == nil {
		return 0, nil
	}
	if *expected < 1 {
		return 0, roster.Invalid(roster.FieldError{Field: "expectedVersion", Message: "must be a version of the user, 1 or more"})
	}
	return int64(*expected), nil
}

// userSort is REST's sort parameter for an order: the field, with a
// leading "-" for descending.
func userSort(order *UserOrder) string {
	if order == nil {
		return ""
	}
	sort := rootName(order.Field)
	if d := order.Direction.Value(); d != nil && *d == OrderDirectionDesc {
		sort = "-" + sort
	}
	return sort
}

// newMFAStatus is a user's second factors, passkeys shown as one method
// (roster.PasskeyMethod), targets masked.
func newMFAStatus(st *roster.MFAStatus, passkeys []*roster.Passkey) *MFAStatus {
	out := &MFAStatus{Enabled: st.Enabled(), RecoveryCodesRemaining: st.RecoveryCodesRemaining,
		Methods: make([]*MFAMethod, 0, len(st.Enrolled)+1)}
	if st.Default != "" {
		d := enumOf[MFAMethodType](st.Default)
		out.DefaultMethod = &d
	}
	methods := st.Enrolled
	if m, ok := roster.PasskeyMethod(passkeys); ok {
		methods = append(slices.Clip(methods), m)
	}
	for _, m := range methods {
		mm := &MFAMethod{Type: enumOf[MFAMethodType](m.Type), Verified: m.Verified, CreatedAt: m.CreatedAt, LastUsedAt: m.LastUsedAt}
		if m.Type == roster.MFASMS || m.Type == roster.MFAEmail {
			target := roster.MaskMFATarget(m.Type, m.Target)
			mm.Target = &target
		}
		out.Methods = append(out.Methods, mm)
	}
	return out
}

// newStats is the dashboard, every field of GET /stats.
func newStats(st *roster.UserStats) *Stats {
	daily := make([]*DayCount, len(st.Daily))
	for i, d := range st.Daily {
		daily[i] = &DayCount{Date: d.Date.UTC().Format("2006-01-02"), Count: int(d.Count)}
	}
	roles := make([]*RoleCount, 0, len(st.Roles))
	for _, role := range slices.Sorted(maps.Keys(st.Roles)) {
		roles = append(roles, &RoleCount{Role: role, Count: int(st.Roles[role])})
	}
	methods := make([]*MethodCount, 0, len(st.MFAMethods))
	for _, m := range roster.MFAMethods() {
		if n, ok := st.MFAMethods[m]; ok {
			methods = append(methods, &MethodCount{Method: enumOf[MFAMethodType](m), Count: int(n)})
		}
	}
	return &Stats{
		TotalUsers: int(st.TotalUsers), ActiveUsers: int(st.ActiveUsers), InactiveUsers: int(st.InactiveUsers),
		Roles: roles, PendingInvitations: int(st.PendingInvitations),
		RecentSignups: &RecentSignups{Last7Days: int(st.SignupsLast7Days), Last30Days: int(st.SignupsLast30Days), Daily: daily},
		Mfa: &MFAStats{Enabled: int(st.MFAEnabled), Disabled: int(st.MFADisabled),
			AdoptionRate: st.MFAAdoptionRate(), Methods: methods},
		Passkeys:    &PasskeyStats{Total: int(st.PasskeysTotal), Synced: int(st.PasskeysSynced), DeviceBound: int(st.PasskeysDeviceBound)},
		LockedUsers: int(st.LockedUsers), FailedSignIns24h: int(st.FailedSignIns24h), PendingApproval: int(st.PendingApproval),
	}
}

// value is the string v points to, or "".
func value(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}
