package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// invitationResponse is an invitation as the REST API shows it: no token,
// no hash, its status derived, and the state of the queued mail with the
// current link (sent_at null until it is delivered).
type invitationResponse struct {
	ID         string  `json:"id"`
	Email      string  `json:"email"`
	Role       string  `json:"role"`
	Status     string  `json:"status"`
	InvitedBy  string  `json:"invited_by"`
	CreatedAt  string  `json:"created_at"`
	ExpiresAt  string  `json:"expires_at"`
	MailStatus string  `json:"mail_status"`
	SentAt     *string `json:"sent_at"`
	AcceptedAt *string `json:"accepted_at"`
	RevokedAt  *string `json:"revoked_at"`
	UserID     *string `json:"user_id"`
}

func (s *Server) newInvitationResponse(inv *roster.Invitation) invitationResponse {
	return invitationResponse{
		ID: inv.ID, Email: inv.Email, Role: inv.Role, Status: inv.Status(s.now()),
		InvitedBy: inv.InvitedBy, CreatedAt: timestamp(inv.CreatedAt), ExpiresAt: timestamp(inv.ExpiresAt),
		MailStatus: inv.MailStatus, SentAt: optTimestamp(inv.SentAt), AcceptedAt: optTimestamp(inv.AcceptedAt), RevokedAt: optTimestamp(inv.RevokedAt),
		UserID: inv.UserID,
	}
}

func optTimestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := timestamp(*t)
	return &v
}

// createInvitation serves POST /invitations {"email","role"}.
func (s *Server) createInvitation(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("email", "role")
	email, role := body.required("email"), body.required("role")
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	inv, err := s.Invitations.Invite(r.Context(), roster.PrincipalFromContext(r.Context()), actor(r), email, role)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.newInvitationResponse(inv))
}

// listInvitations serves GET /invitations: status, limit and cursor.
func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, "status", "limit", "cursor"); err != nil {
		s.Error(w, r, err)
		return
	}
	f := roster.InvitationFilter{Status: query.Get("status"), Cursor: query.Get("cursor")}
	var err error
	if f.Limit, err = parseLimit(query.Get("limit")); err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.Invitations.FindInvitations(r.Context(), tenantID(r), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newListResponse(page.Items, page.NextCursor, s.newInvitationResponse))
}

// revokeInvitation serves DELETE /invitations/{id}.
func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Invitations.Revoke(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// resendInvitation serves POST /invitations/{id}/resend: a new link, a
// new expiry, a new mail.
func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request) {
	inv, err := s.Invitations.Resend(r.Context(), tenantID(r), actor(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.newInvitationResponse(inv))
}

// acceptInvitation serves POST /invitations/accept, without a credential:
// the token is the credential.
func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("token", "password", "user_name", "given_name", "family_name")
	a := roster.InvitationAcceptance{Token: body.required("token"), Password: body.required("password")}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"user_name", &a.UserName}, {"given_name", &a.GivenName}, {"family_name", &a.FamilyName}} {
		if v := body.string(f.name); v != nil {
			*f.dst = *v
		}
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Invitations.Accept(r.Context(), roster.RequestIDFromContext(r.Context()), a)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, newUserResponse(u))
}

// MaxBulkInvitations bounds the rows of one bulk request.
const MaxBulkInvitations = 10000

// bulkResponse is what a bulk invitation made and which rows failed.
type bulkResponse struct {
	Created int                    `json:"created"`
	Failed  []roster.InviteFailure `json:"failed"`
}

// bulkInvite serves POST /invitations/bulk, a text/csv body with an
// email,role header. Each row is its own invitation and transaction.
func (s *Server) bulkInvite(w http.ResponseWriter, r *http.Request) {
	rows, err := readInvitationCSV(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	created, failed, err := s.Invitations.InviteMany(r.Context(), roster.PrincipalFromContext(r.Context()), actor(r), rows)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bulkResponse{Created: created, Failed: failed})
}

// readInvitationCSV reads the rows of a bulk request, numbered from 1 for
// the first row after the header. EINVALID naming "Content-Type" or "body"
// for anything but CSV with an email,role header and 1 to
// MaxBulkInvitations rows, "email" or "role" for a value with a NUL or
// bytes that are not UTF-8 (the whole body is refused: it is not text);
// ETOOLARGE past the body limit.
func readInvitationCSV(r *http.Request) ([]roster.InviteRow, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/csv" {
		return nil, &roster.Error{Code: roster.EINVALID, Message: "the body must be sent as Content-Type: text/csv",
			Fields: []roster.FieldError{{Field: "Content-Type", Message: "must be text/csv"}}}
	}
	raw, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, roster.Errorf(roster.ETOOLARGE, "the request body is larger than %d bytes", tooLarge.Limit)
	} else if err != nil {
		return nil, roster.Errorf(roster.EINVALID, "the request body could not be read")
	}
	bad := func(msg string) error { return roster.Invalid(roster.FieldError{Field: "body", Message: msg}) }
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\ufeff")))
	cr.FieldsPerRecord = -1 // a row of the wrong width fails alone
	header, err := cr.Read()
	if err == io.EOF {
		return nil, bad("is empty: send an email,role header and one row per invitation")
	} else if err != nil {
		return nil, bad("is not CSV: " + csvProblem(err))
	}
	if len(header) != 2 || !strings.EqualFold(strings.TrimSpace(header[0]), "email") ||
		!strings.EqualFold(strings.TrimSpace(header[1]), "role") {
		return nil, bad("must start with the header email,role")
	}
	var rows []roster.InviteRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, bad("is not CSV: " + csvProblem(err))
		}
		if len(rows) == MaxBulkInvitations {
			return nil, bad("has more than 10000 rows: split it")
		}
		for i, column := range []string{"email", "role"}[:min(len(rec), 2)] {
			if msg := roster.StoredTextProblem(rec[i]); msg != "" {
				return nil, roster.Invalid(roster.FieldError{Field: column, Message: fmt.Sprintf("in row %d %s", len(rows)+1, msg)})
			}
		}
		row := roster.InviteRow{Row: len(rows) + 1, Email: rec[0]}
		if len(rec) == 2 {
			row.Role = rec[1]
		} else {
			row.Problem = "must have 2 fields, email and role"
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, bad("has no rows after the header")
	}
	return rows, nil
}

// csvProblem describes a CSV syntax error by its place, without echoing
// the input.
func csvProblem(err error) string {
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return perr.Error()
	}
	return "malformed"
}
