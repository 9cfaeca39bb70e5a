package store

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster"
)

// BeginPasskeyMFA stores a passkey ceremony for a sign-in's second factor.
func (s *PasskeyService) BeginPasskeyMFA(ctx context.Context, tokenHash []byte, begin func(a *roster.MFAAttempt, passkeys []*roster.Passkey) (*roster.WebAuthnSession, error)) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		a, err := lockAttempt(ctx, tx, tokenHash)
		if err != nil {
			return err
		}
		c := a.Challenge
		passkeys, err := userPasskeys(ctx, tx, c.TenantID, c.UserID, false)
		if err != nil {
			return err
		}
		ws, err := begin(a, passkeys)
		if err != nil {
			return err
		}
		ws.TenantID, ws.Kind, ws.UserID, ws.MFAChallengeID = c.TenantID, roster.WebAuthnMFA, c.UserID, c.ID
		return insertWebAuthnSession(ctx, tx, s.db.now(), ws)
	})
}

// AttemptPasskeyMFA records one passkey assertion at a sign-in's second
// factor, as check judges it.
func (s *PasskeyService) AttemptPasskeyMFA(ctx context.Context, tokenHash []byte, challenge string, credentialID []byte, check func(a *roster.MFAAttempt, ws *roster.WebAuthnSession, p *roster.PasskeyAttempt) (roster.PasskeyVerdict, bool, error)) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		a, err := lockAttempt(ctx, tx, tokenHash)
		if err != nil {
			return err
		}
		c := a.Challenge
		ws, err := takeWebAuthnSession(ctx, tx, c.TenantID, roster.WebAuthnMFA, c.UserID, c.ID, challenge)
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			ws = nil
		} else if err != nil {
			return err
		}
		pa := &roster.PasskeyAttempt{Login: a.Login}
		if pa.Passkeys, err = userPasskeys(ctx, tx, c.TenantID, c.UserID, true); err != nil {
			return err
		}
		for _, p := range pa.Passkeys {
			if string(p.CredentialID) == string(credentialID) {
				pa.Passkey = p
			}
		}
		v, burn, err := check(a, ws, pa)
		if err != nil {
			return err
		}
		if err := recordPasskeyUse(ctx, tx, now, c.TenantID, pa, v, map[string]any{"challenge_id": c.ID, "second_factor": true}); err != nil {
			return err
		}
		if !v.Passed {
			return recordChallengeFailure(ctx, tx, now, c, roster.MFAPasskey, burn)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM mfa_challenges WHERE tenant_id = $1 AND id = $2`, c.TenantID, c.ID)
		return translate(err)
	})
}
