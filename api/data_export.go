package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// dataExportSections are what the document holds before the audit trail,
// read before its first byte so that a failure is still a problem.
type dataExportSections struct {
	ExportedAt string               `json:"exported_at"`
	User       userResponse         `json:"user"`
	Attributes json.RawMessage      `json:"attributes"`
	MFA        mfaStatusResponse    `json:"mfa"`
	Passkeys   []passkeyResponse    `json:"passkeys"`
	Sessions   []sessionResponse    `json:"sessions"`
	Groups     []dataExportGroup    `json:"groups"`
	Teams      []dataExportTeam     `json:"teams"`
	Identities []dataExportIdentity `json:"identities"`
	// ServiceTokens are listed as the vault lists them: masked.
	ServiceTokens []serviceTokenResponse `json:"service_tokens"`
}

// exportUserData serves GET /users/{id}/data-export.
func (s *Server) exportUserData(w http.ResponseWriter, r *http.Request) {
	s.exportData(w, r, chi.URLParam(r, "id"))
}

// exportMyData serves GET /me/data-export.
func (s *Server) exportMyData(w http.ResponseWriter, r *http.Request) {
	id, ok := s.selfUserID(w, r)
	if ok {
		s.exportData(w, r, id)
	}
}

// exportData writes everything Roster holds about a person as one JSON
// document (GDPR article 15 and 20): the REST representations of the
// profile, second factors (never a secret), passkeys and sessions, the
// attributes identity providers sent, groups, teams and identity-provider links,
// then their personal API keys (never a secret), every audit event about
// the person, every one by them and their sign-in history, streamed page by page so that a trail of any length
// fits. A failure after the first byte aborts the connection,
// so a cut document is never taken for a whole one.
func (s *Server) exportData(w http.ResponseWriter, r *http.Request, userID string) {
	ctx, tenant := r.Context(), tenantID(r)
	head, err := s.dataExportSections(r, tenant, userID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	raw, err := json.Marshal(head)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="roster-data-`+userID+`.json"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	out := bufio.NewWriterSize(w, 32<<10)
	_, _ = out.Write(raw[:len(raw)-1]) // the object stays open for the trail
	for _, section := range []struct {
		key   string
		write func() error
	}{
		{"audit_events_about", func() error { return s.writeAuditTrail(r, out, tenant, roster.AuditFilter{TargetID: userID}) }},
		{"audit_events_by", func() error { return s.writeAuditTrail(r, out, tenant, roster.AuditFilter{ActorID: userID}) }},
		{"api_keys", func() error {
			return writePages(out, func(cursor string) ([]*roster.APIToken, string, error) {
				page, err := s.APIKeys.FindAPIKeys(ctx, tenant, roster.APIKeyFilter{UserID: userID, Limit: roster.MaxPageSize, Cursor: cursor})
				if err != nil {
					return nil, "", err
				}
				return page.Items, page.NextCursor, nil
			}, newAPIKeyResponse)
		}},
		{"sign_ins", func() error {
			return writePages(out, func(cursor string) ([]*roster.SignInAttempt, string, error) {
				page, err := s.SignIns.FindSignIns(ctx, tenant, userID, roster.SignInFilter{Limit: roster.MaxPageSize, Cursor: cursor})
				if err != nil {
					return nil, "", err
				}
				return page.Items, page.NextCursor, nil
			}, newSignInResponse)
		}},
	} {
		_, _ = out.WriteString(`,"` + section.key + `":[`)
		if err := section.write(); err != nil {
			s.Log.ErrorContext(ctx, "data export cut short", "request_id", roster.RequestIDFromContext(ctx), "error", err.Error())
			panic(http.ErrAbortHandler)
		}
		_, _ = out.WriteString("]")
	}
	_, _ = out.WriteString("}\n")
	if err := out.Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
}

// dataExportSections reads what the document holds before the trail.
func (s *Server) dataExportSections(r *http.Request, tenant, userID string) (*dataExportSections, error) {
	ctx := r.Context()
	u, err := s.Users.FindUserByID(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	st, err := s.MFA.Status(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	passkeys, err := s.Passkeys.List(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	sessions, err := s.Sessions.ListSessions(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	rec, err := s.Privacy.PersonalRecords(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	vault, err := s.ServiceTokens.FindServiceTokens(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	head := &dataExportSections{
		ExportedAt: timestamp(time.Now()),
		User:       newUserResponse(u),
		MFA:        newMFAStatusResponse(st),
		Passkeys:   make([]passkeyResponse, 0, len(passkeys)),
		Sessions:   newSessionList(sessions, roster.PrincipalFromContext(ctx).SessionID),
		Attributes: rec.Attributes,
		Groups:     make([]dataExportGroup, 0, len(rec.Groups)),
		Teams:      make([]dataExportTeam, 0, len(rec.Teams)),
		Identities: make([]dataExportIdentity, 0, len(rec.Identities)),
	}
	if slices.Contains(st.Methods, roster.MFAPasskey) {
		head.MFA.Methods = appendPasskeyMethod(head.MFA.Methods, passkeys)
	}
	head.ServiceTokens = make([]serviceTokenResponse, 0, len(vault))
	for _, t := range vault {
		head.ServiceTokens = append(head.ServiceTokens, newServiceTokenResponse(t))
	}
	for _, p := range passkeys {
		head.Passkeys = append(head.Passkeys, newPasskeyResponse(p))
	}
	for _, g := range rec.Groups {
		head.Groups = append(head.Groups, dataExportGroup{ID: g.GroupID, DisplayName: g.DisplayName, Since: timestamp(g.Since)})
	}
	for _, t := range rec.Teams {
		head.Teams = append(head.Teams, dataExportTeam{ID: t.TeamID, Name: t.Name, Role: t.Role, Since: timestamp(t.Since)})
	}
	for _, id := range rec.Identities {
		head.Identities = append(head.Identities, dataExportIdentity{ConnectionID: id.ConnectionID, Subject: id.Subject,
			CreatedAt: timestamp(id.CreatedAt)})
	}
	return head, nil
}

// writeAuditTrail writes the events f selects, comma-separated, a page at
// a time.
func (s *Server) writeAuditTrail(r *http.Request, out *bufio.Writer, tenant string, f roster.AuditFilter) error {
	f.Limit = roster.MaxPageSize
	return writePages(out, func(cursor string) ([]*roster.AuditEvent, string, error) {
		f.Cursor = cursor
		page, err := s.Audit.FindAuditEvents(r.Context(), tenant, f)
		if err != nil {
			return nil, "", err
		}
		return page.Items, page.NextCursor, nil
	}, newAuditEventResponse)
}

// writePages writes, comma-separated, every item of the pages next reads
// from its first ("") to the one with no next cursor, as present shows it.
func writePages[T, R any](out *bufio.Writer, next func(cursor string) ([]T, string, error), present func(T) R) error {
	enc := json.NewEncoder(out)
	first, cursor := true, ""
	for {
		items, nextCursor, err := next(cursor)
		if err != nil {
			return err
		}
		for _, item := range items {
			if !first {
				_, _ = out.WriteString(",")
			}
			first = false
			if err := enc.Encode(present(item)); err != nil {
				return err
			}
		}
		if nextCursor == "" {
			return nil
		}
		cursor = nextCursor
	}
}

// dataExportGroup is a group the person is a member of.
type dataExportGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Since       string `json:"since"`
}

// dataExportTeam is a team the person is in, and their role there.
type dataExportTeam struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Since string `json:"since"`
}

// dataExportIdentity links the person to a user of an identity provider.
type dataExportIdentity struct {
	ConnectionID string `json:"connection_id"`
	Subject      string `json:"subject"`
	CreatedAt    string `json:"created_at"`
}

// eraseUser serves POST /users/{id}/erase {"transfer_to"?}: the right to be
// forgotten.
func (s *Server) eraseUser(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("transfer_to")
	heir := body.string("transfer_to")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	to := ""
	if heir != nil {
		to = *heir
	}
	if err := s.Privacy.EraseUser(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"), to); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
