// Package notify sends the mail and SMS that MFA codes, invitations and
// reminders go out through: an SMTP mailer, SMS drivers for a webhook and
// Twilio, and logging stand-ins for development.
//
// Message bodies may hold one-time codes, so nothing here logs or returns
// them in an error: logs and errors name the recipient masked (MaskEmail,
// MaskPhone) and the provider's status only. The development drivers are the
// one exception, because they stand in for the inbox and the phone.
package notify
