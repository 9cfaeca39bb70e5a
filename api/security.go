package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// securityResponse is a user's security information: how they sign in and
// how that has gone lately.
type securityResponse struct {
	UserID                 string              `json:"user_id"`
	MFAEnabled             bool                `json:"mfa_enabled"`
	DefaultMethod          *string             `json:"default_method"`
	Methods                []mfaMethodResponse `json:"methods"`
	RecoveryCodesRemaining int                 `json:"recovery_codes_remaining"`
	Passkeys               []passkeyResponse   `json:"passkeys"`
	PasswordSet            bool                `json:"password_set"`
	LastLoginAt            *string             `json:"last_login_at"`
	FailedLoginAttempts    int                 `json:"failed_login_attempts"`
	LockedUntil            *string             `json:"locked_until"`
	ActiveTokens           int                 `json:"active_tokens"`
}

// getUserSecurity serves GET /users/{id}/security.
func (s *Server) getUserSecurity(w http.ResponseWriter, r *http.Request) {
	ctx, tenant, id := r.Context(), tenantID(r), chi.URLParam(r, "id")
	login, err := s.Logins.FindLoginByID(ctx, tenant, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st, err := s.MFA.Status(ctx, tenant, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	passkeys, err := s.Passkeys.List(ctx, tenant, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	active, err := s.Sessions.CountActiveSessions(ctx, tenant, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	mfa := newMFAStatusResponse(st)
	mfa.Methods = appendPasskeyMethod(mfa.Methods, passkeys)
	resp := securityResponse{
		UserID:                 id,
		MFAEnabled:             mfa.Enabled,
		DefaultMethod:          mfa.DefaultMethod,
		Methods:                mfa.Methods,
		RecoveryCodesRemaining: mfa.RecoveryCodesRemaining,
		Passkeys:               newPasskeyList(passkeys)["items"],
		PasswordSet:            login.PasswordHash != "",
		FailedLoginAttempts:    login.FailedLogins,
		ActiveTokens:           active,
	}
	if login.User.LastLoginAt != nil {
		t := timestamp(*login.User.LastLoginAt)
		resp.LastLoginAt = &t
	}
	if login.LockedUntil != nil {
		t := timestamp(*login.LockedUntil)
		resp.LockedUntil = &t
	}
	writeJSON(w, http.StatusOK, resp)
}

// appendPasskeyMethod adds the user's passkeys, when they have any, to
// methods as one method: passkeys have no mfa_methods row of their own.
func appendPasskeyMethod(methods []mfaMethodResponse, passkeys []*roster.Passkey) []mfaMethodResponse {
	m, ok := roster.PasskeyMethod(passkeys)
	if !ok {
		return methods
	}
	return append(methods, mfaMethodResponse{Type: m.Type, Verified: m.Verified, CreatedAt: timestamp(m.CreatedAt),
		LastUsedAt: optTimestamp(m.LastUsedAt)})
}
