package store

// The queries of the sign-in history, for the plan tests.
const (
	SignInsOfUserSQL      = signInsOfUser
	SignInDeviceSQL       = signInDevice
	StatsFailedSignInsSQL = statsFailedSignIns
)
