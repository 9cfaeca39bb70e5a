package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// exportedUserResponse is one ndjson line: the REST user and its verified
// MFA methods.
type exportedUserResponse struct {
	userResponse
	MFAMethods []string `json:"mfa_methods"`
}

// exportColumns is the CSV header; exportRecord follows it.
var exportColumns = []string{"id", "user_name", "email", "given_name", "family_name", "display_name",
	"external_id", "role", "active", "mfa_methods", "created_at", "updated_at", "last_login_at"}

func exportRecord(u *roster.ExportedUser) []string {
	ext, last := "", ""
	if u.ExternalID != nil {
		ext = *u.ExternalID
	}
	if u.LastLoginAt != nil {
		last = timestamp(*u.LastLoginAt)
	}
	rec := []string{u.ID, u.UserName, u.Email, u.GivenName, u.FamilyName, u.DisplayName, ext, u.Role,
		strconv.FormatBool(u.Active), strings.Join(u.MFAMethods, " "), timestamp(u.CreatedAt), timestamp(u.UpdatedAt), last}
	for i, v := range rec {
		rec[i] = defuseFormula(v)
	}
	return rec
}

// defuseFormula keeps a spreadsheet from running a cell as a formula
// (OWASP "CSV injection"): a value starting with = + - @ or a tab or
// carriage return gets a leading apostrophe.
func defuseFormula(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// exportFlushEvery is how many users go out between flushes, so that the
// client sees progress at once and the server holds no more than that.
const exportFlushEvery = 500

// exportUsers serves GET /users/export: every user the list filters
// select, as CSV or ndjson, streamed. A bad format or filter is a problem
// before any byte of the file; a failure after the first byte aborts the
// connection, so that a cut file is never taken for a whole one.
func (s *Server) exportUsers(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if err := onlyParams(query, slices.Concat(roster.UserFilterKeys, []string{"format"})...); err != nil {
		s.Error(w, r, err)
		return
	}
	f, fields := parseUserFilter(query)
	format := query.Get("format")
	if format == "" {
		fields = append(fields, roster.FieldError{Field: "format", Message: "is required: csv or ndjson"})
	}
	if len(fields) > 0 {
		s.Error(w, r, roster.Invalid(fields...))
		return
	}

	out := &exportWriter{w: w, rc: http.NewResponseController(w), format: format}
	err := s.Export.ExportUsers(r.Context(), tenantID(r), actor(r), format, f, out.write)
	if err == nil {
		err = out.finish()
	}
	if err != nil {
		if !out.started {
			s.Error(w, r, err)
			return
		}
		s.Log.ErrorContext(r.Context(), "user export cut short", "request_id", roster.RequestIDFromContext(r.Context()),
			"error", err.Error(), "rows", out.rows)
		panic(http.ErrAbortHandler)
	}
}

// exportWriter writes an export's headers on its first row (or at the end
// of an empty one), then its rows.
type exportWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	format  string
	started bool
	rows    int
	buf     *bufio.Writer
	csv     *csv.Writer
	json    *json.Encoder
}

func (e *exportWriter) start() error {
	e.started = true
	h := e.w.Header()
	name := "users-" + time.Now().UTC().Format("20060102T150405Z")
	if e.format == roster.ExportCSV {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		name += ".csv"
	} else {
		h.Set("Content-Type", "application/x-ndjson")
		name += ".ndjson"
	}
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	e.w.WriteHeader(http.StatusOK)
	e.buf = bufio.NewWriterSize(e.w, 32<<10)
	if e.format == roster.ExportCSV {
		e.csv = csv.NewWriter(e.buf)
		return e.csv.Write(exportColumns)
	}
	e.json = json.NewEncoder(e.buf)
	return nil
}

func (e *exportWriter) write(u *roster.ExportedUser) error {
	if !e.started {
		if err := e.start(); err != nil {
			return err
		}
	}
	var err error
	if e.csv != nil {
		err = e.csv.Write(exportRecord(u))
	} else {
		methods := u.MFAMethods
		if methods == nil {
			methods = []string{}
		}
		err = e.json.Encode(exportedUserResponse{userResponse: newUserResponse(u.User), MFAMethods: methods})
	}
	if err != nil {
		return err
	}
	e.rows++
	if e.rows%exportFlushEvery == 0 {
		return e.flush()
	}
	return nil
}

func (e *exportWriter) flush() error {
	if e.csv != nil {
		e.csv.Flush()
		if err := e.csv.Error(); err != nil {
			return err
		}
	}
	if err := e.buf.Flush(); err != nil {
		return err
	}
	return e.rc.Flush()
}

// finish sends what is buffered, the headers alone for an empty export.
func (e *exportWriter) finish() error {
	if !e.started {
		if err := e.start(); err != nil {
			return err
		}
	}
	return e.flush()
}
