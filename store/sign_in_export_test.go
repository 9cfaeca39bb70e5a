package store

// The queries of the sign-in history, for the plan tests.
const (
	SignInsOfUserSQL      = signInsOfUser
	SignInDeviceSQL       = signInDevice
	StatsFailedSignInsSQL = statsFailedSignIns
)

// InactiveUsersSQL is the inactivity job's walk, for its plan test.
const InactiveUsersSQL = inactiveUsers
