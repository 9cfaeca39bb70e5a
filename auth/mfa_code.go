package auth

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/notify"
)

// SendEnrolmentCode starts (or restarts) enrolling method, sms or email:
// it sends a one-time code to target (normalised for sms; for email it is
// the user's own address, whatever is given) and stores its hash, to be
// confirmed with ConfirmCode. It answers the masked target. ENOTFOUND;
// EINVALID naming "phone" for a number that is not one; ECONFLICT when
// the tenant's policy does not allow the method or no sender is
// configured for it; ETOOMANY within CodeResendAfter of the last code;
// EUNAVAILABLE when the code could not be sent.
func (m *MFA) SendEnrolmentCode(ctx context.Context, tenantID string, by roster.Actor, userID, method, phone string) (string, error) {
	if err := m.allowed(ctx, tenantID, method); err != nil {
		return "", err
	}
	if err := m.canSend(method); err != nil {
		return "", err
	}
	var target string
	switch method {
	case roster.MFASMS:
		p, err := notify.NormalizePhone(phone)
		if err != nil {
			return "", roster.Invalid(roster.FieldError{Field: "phone", Message: "is not a phone number: use the international form, as in +44 20 7946 0000"})
		}
		target = p
	case roster.MFAEmail:
		u, err := m.users.FindUserByID(ctx, tenantID, userID)
		if err != nil {
			return "", err
		}
		target = u.Email
	}
	err := m.store.SendEnrolmentCode(ctx, tenantID, by, userID, method, target, func(mm *roster.MFAMethod) (*roster.MFACode, error) {
		var last *roster.MFACode
		if mm != nil {
			last = mm.Code
		}
		return m.sendCode(ctx, method, target, last)
	})
	if err != nil {
		return "", err
	}
	return maskTarget(method, target), nil
}

// ConfirmCode checks a code sent by SendEnrolmentCode and, when it is
// right, enables the method. ENOTFOUND; ECONFLICT when no code awaits or
// the tenant's policy no longer allows the method; EINVALID naming "code"
// for a wrong code, and for one expired or past CodeMaxAttempts wrong
// tries.
func (m *MFA) ConfirmCode(ctx context.Context, tenantID string, by roster.Actor, userID, method, code string) error {
	if err := m.allowed(ctx, tenantID, method); err != nil {
		return err
	}
	now := m.Now()
	var stale, wrong bool
	err := m.store.ConfirmCode(ctx, tenantID, by, userID, method, func(mm *roster.MFAMethod) (bool, error) {
		if !m.codeWorks(mm.Code, method, now) {
			stale = true
			return false, nil
		}
		wrong = !m.codes.CheckCode(mm.Code.Hash, totpCode(code))
		return !wrong, nil
	})
	switch {
	case err != nil:
		return err
	case stale:
		return roster.Invalid(roster.FieldError{Field: "code", Message: "has expired or had too many wrong tries: request a new one"})
	case wrong:
		return roster.Invalid(roster.FieldError{Field: "code", Message: "is not the code sent"})
	}
	return nil
}

// SendChallengeCode sends a one-time code for the sign-in awaiting its
// second factor, by method (sms or email), to the user's verified target,
// and binds it to the challenge; VerifyMFA then takes it. EINVALID naming
// "method" for another method or one the user has not verified;
// EUNAUTHORIZED for an unknown, expired or ended challenge; ETOOMANY
// within CodeResendAfter of the last code; EUNAVAILABLE when no sender is
// configured or the code could not be sent. It answers the masked target.
func (s *SignIn) SendChallengeCode(ctx context.Context, mfaToken, method string) (string, error) {
	m := s.mfa
	if m == nil {
		return "", roster.Errorf(roster.EUNAVAILABLE, "sign-in with a second factor is not available")
	}
	if method != roster.MFASMS && method != roster.MFAEmail {
		return "", roster.Invalid(roster.FieldError{Field: "method", Message: "must be sms or email"})
	}
	if !isMFAToken(mfaToken) {
		return "", errChallengeGone()
	}
	now := m.Now()
	var target string
	err := m.store.SendChallengeCode(ctx, HashAPIToken(mfaToken), method, func(a *roster.MFAAttempt, mm *roster.MFAMethod) (*roster.MFACode, error) {
		c, l := a.Challenge, a.Login
		if !now.Before(c.ExpiresAt) || c.FailedAttempts >= m.MaxAttempts || !l.User.Active || l.Locked(now) {
			return nil, errChallengeGone()
		}
		if mm == nil || !slices.Contains(l.MFAMethods, method) {
			return nil, roster.Invalid(roster.FieldError{Field: "method", Message: method + " is not a verified method of the user"})
		}
		if err := m.canSend(method); err != nil {
			return nil, roster.Errorf(roster.EUNAVAILABLE, "%s", roster.ErrorMessage(err))
		}
		target = mm.Target
		return m.sendCode(ctx, method, target, c.Code)
	})
	if err != nil {
		return "", err
	}
	return maskTarget(method, target), nil
}

// codeWorks reports whether c is a code of method that has neither
// expired nor had too many wrong tries at now.
func (m *MFA) codeWorks(c *roster.MFACode, method string, now time.Time) bool {
	return c != nil && c.Method == method && now.Before(c.ExpiresAt) && c.Attempts < m.CodeMaxAttempts
}

// canSend returns ECONFLICT unless a sender for method is configured.
func (m *MFA) canSend(method string) error {
	if method == roster.MFASMS && m.SMS == nil {
		return roster.Errorf(roster.ECONFLICT, "this server has no SMS sender configured: SMS codes are unavailable")
	}
	if method == roster.MFAEmail && m.Mailer == nil {
		return roster.Errorf(roster.ECONFLICT, "this server has no mail sender configured: email codes are unavailable")
	}
	return nil
}

// sendCode makes a new code, unless last was sent less than
// CodeResendAfter ago, sends it to target and returns it as stored.
func (m *MFA) sendCode(ctx context.Context, method, target string, last *roster.MFACode) (*roster.MFACode, error) {
	now := m.Now()
	if last != nil {
		if wait := last.SentAt.Add(m.CodeResendAfter).Sub(now); wait > 0 {
			return nil, &roster.Error{Code: roster.ETOOMANY, RetryAfter: wait,
				Message: fmt.Sprintf("a code was sent less than %d seconds ago: wait before asking for another", int(math.Round(m.CodeResendAfter.Seconds())))}
		}
	}
	code, err := NewNumericCode(codeDigits)
	if err != nil {
		return nil, err
	}
	minutes := int(m.CodeTTL.Round(time.Minute) / time.Minute)
	text := fmt.Sprintf("Your %s verification code is %s. It expires in %d minutes. If you did not ask for it, ignore this message.", m.TOTPIssuer, code, minutes)
	switch method {
	case roster.MFASMS:
		err = m.SMS.SendSMS(ctx, notify.SMS{To: target, Text: text})
	case roster.MFAEmail:
		err = m.Mailer.Send(ctx, notify.Message{To: target, Subject: "Your " + m.TOTPIssuer + " verification code", Text: text})
	}
	if err != nil {
		// notify's errors name the target masked and never the text.
		m.Log.WarnContext(ctx, "could not send a one-time code", "method", method, "to", maskTarget(method, target), "err", err)
		return nil, roster.Errorf(roster.EUNAVAILABLE, "could not send the code: try again later")
	}
	return &roster.MFACode{Method: method, Hash: m.codes.HashCode(code), SentAt: now, ExpiresAt: now.Add(m.CodeTTL)}, nil
}

// maskTarget is a number or address as answers and logs show it.
func maskTarget(method, target string) string {
	if method == roster.MFASMS {
		return notify.MaskPhone(target)
	}
	return notify.MaskEmail(target)
}
