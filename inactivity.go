package roster

import "time"

// JobKindInactivity is a tenant's daily inactivity job: it warns the users
// about to reach the policy's deactivate_after_days and deactivates those
// past it. Queued once a day per tenant whose policy sets it.
const JobKindInactivity = "inactivity"

// ActionUserInactivityWarned is a warning mailed to a user that they will
// be deactivated for inactivity.
const ActionUserInactivityWarned = "user.inactivity_warned"

// InactivityActor is who the inactivity job acts as in the audit trail.
func InactivityActor() Actor { return Actor{Type: ActorSystem, ID: "inactivity"} }

// InactivityWarningEmail tells u they will be deactivated on deactivateOn
// unless they sign in before.
func InactivityWarningEmail(u *User, deactivateOn time.Time) Email {
	return Email{
		To:      u.Email,
		Subject: "Your account will be deactivated for inactivity",
		Body: "Hello " + greetingName(u) + ",\n\n" +
			"Your account (" + u.UserName + ") has not been used for a long time. Your organisation deactivates " +
			"accounts that are not used, and will deactivate yours on " + deactivateOn.UTC().Format("2 January 2006") + ".\n\n" +
			"To keep it, sign in before then. If you no longer need it, there is nothing to do.\n",
	}
}
