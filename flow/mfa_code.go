package flow

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/auth"
	"github.com/rosterhq/roster/notify"
)

// One-time codes by SMS and email are stored first, in a short
// transaction, and sent after it commits: a slow mail server or SMS
// provider never holds a row lock or a database connection. A code that
// could not be sent is withdrawn again, so the answer (503) and the
// database agree, and the next code may be asked for at once.

// outgoingCode is a code made and stored, still to be sent to target.
type outgoingCode struct {
	method, target string
	code           string
	stored         *roster.MFACode
}

// SendEnrolmentCode starts (or restarts) enrolling method, sms or email:
// it sends a one-time code to target (normalised for sms; for email it is
// the user's own address, whatever is given) and stores its hash, to be
// confirmed with ConfirmCode. It answers the masked target. ENOTFOUND;
// EINVALID naming "phone" for a number that is not one; ECONFLICT when
// the tenant's policy does not allow the method or no sender is
// configured for it; ETOOMANY within CodeResendAfter of the last code;
// EUNAVAILABLE when the code could not be sent, with nothing kept.
func (m *MFA) SendEnrolmentCode(ctx context.Context, tenantID string, by roster.Actor, userID, method, phone string) (*roster.CodeSent, error) {
	if err := m.allowed(ctx, tenantID, method); err != nil {
		return nil, err
	}
	if err := m.canSend(method); err != nil {
		return nil, err
	}
	var target string
	switch method {
	case roster.MFASMS:
		p, err := roster.NormalizePhone(phone)
		if err != nil {
			return nil, roster.Invalid(roster.FieldError{Field: "phone", Message: "is not a phone number: use the international form, as in +44 20 7946 0000"})
		}
		target = p
	case roster.MFAEmail:
		u, err := m.users.FindUserByID(ctx, tenantID, userID)
		if err != nil {
			return nil, err
		}
		target = u.Email
	}
	var out outgoingCode
	err := m.store.SetEnrolmentCode(ctx, tenantID, userID, method, target, func(mm *roster.MFAMethod) (*roster.MFACode, error) {
		var last *roster.MFACode
		if mm != nil {
			last = mm.Code
		}
		var err error
		out, err = m.newCode(method, target, last)
		return out.stored, err
	})
	if err != nil {
		return nil, err
	}
	if err := m.deliver(ctx, out); err != nil {
		if werr := m.store.WithdrawEnrolmentCode(ctx, tenantID, userID, method, out.stored.Hash); werr != nil {
			m.Log.WarnContext(ctx, "could not withdraw an undelivered code", "err", werr)
		}
		return nil, err
	}
	if err := m.store.RecordEnrolmentCodeSent(ctx, tenantID, by, userID, method, target); err != nil {
		return nil, err
	}
	return m.codeSent(out), nil
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

// newCode makes a code for target, unless last was sent less than
// CodeResendAfter ago (ETOOMANY). It runs in the transaction that stores
// the code, so two requests never both make one.
func (m *MFA) newCode(method, target string, last *roster.MFACode) (outgoingCode, error) {
	now := m.Now()
	if last != nil {
		if wait := last.SentAt.Add(m.CodeResendAfter).Sub(now); wait > 0 {
			return outgoingCode{}, &roster.Error{Code: roster.ETOOMANY, RetryAfter: wait,
				Message: fmt.Sprintf("a code was sent less than %d seconds ago: wait before asking for another", int(math.Round(m.CodeResendAfter.Seconds())))}
		}
	}
	code, err := auth.NewNumericCode(codeDigits)
	if err != nil {
		return outgoingCode{}, err
	}
	return outgoingCode{method: method, target: target, code: code,
		stored: &roster.MFACode{Method: method, Hash: m.codes.HashCode(code), SentAt: now, ExpiresAt: now.Add(m.CodeTTL)}}, nil
}

// deliver sends out's code. EUNAVAILABLE when it could not be sent.
func (m *MFA) deliver(ctx context.Context, out outgoingCode) error {
	minutes := int(m.CodeTTL.Round(time.Minute) / time.Minute)
	text := fmt.Sprintf("Your %s verification code is %s. It expires in %d minutes. If you did not ask for it, ignore this message.", m.TOTPIssuer, out.code, minutes)
	var err error
	switch out.method {
	case roster.MFASMS:
		err = m.SMS.SendSMS(ctx, notify.SMS{To: out.target, Text: text})
	case roster.MFAEmail:
		err = m.Mailer.Send(ctx, notify.Message{To: out.target, Subject: "Your " + m.TOTPIssuer + " verification code", Text: text})
	}
	if err != nil {
		// notify's errors name the target masked and never the text.
		m.Log.WarnContext(ctx, "could not send a one-time code", "method", out.method, "to", roster.MaskMFATarget(out.method, out.target), "err", err)
		return roster.Errorf(roster.EUNAVAILABLE, "could not send the code: try again later")
	}
	return nil
}

// codeSent is the answer to a code sent.
func (m *MFA) codeSent(out outgoingCode) *roster.CodeSent {
	return &roster.CodeSent{Method: out.method, Target: roster.MaskMFATarget(out.method, out.target), ExpiresIn: int(m.CodeTTL.Seconds())}
}
