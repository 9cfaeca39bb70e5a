package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/rosterhq/roster"
)

// bulkResultResponse is what a bulk action did.
type bulkResultResponse struct {
	Matched     int64                `json:"matched"`
	Succeeded   int64                `json:"succeeded"`
	Skipped     int64                `json:"skipped"`
	FailedCount int64                `json:"failed_count"`
	Failed      []roster.BulkFailure `json:"failed"`
}

func newBulkResultResponse(r *roster.BulkResult) bulkResultResponse {
	failed := r.Failed
	if failed == nil {
		failed = []roster.BulkFailure{}
	}
	return bulkResultResponse{Matched: r.Matched, Succeeded: r.Succeeded, Skipped: r.Skipped,
		FailedCount: r.FailedCount, Failed: failed}
}

// jobResponse is a background job and its progress.
type jobResponse struct {
	ID         string             `json:"id"`
	Kind       string             `json:"kind"`
	Action     string             `json:"action"`
	Status     string             `json:"status"`
	Progress   jobProgress        `json:"progress"`
	Result     bulkResultResponse `json:"result"`
	Error      *string            `json:"error"`
	CreatedAt  string             `json:"created_at"`
	StartedAt  *string            `json:"started_at"`
	FinishedAt *string            `json:"finished_at"`
}

type jobProgress struct {
	Processed int64  `json:"processed"`
	Total     *int64 `json:"total"`
}

func newJobResponse(j *roster.Job) jobResponse {
	resp := jobResponse{ID: j.ID, Kind: j.Kind, Action: j.Action, Status: j.Status,
		Progress:  jobProgress{Processed: j.Processed, Total: j.Total},
		Result:    newBulkResultResponse(&j.Result),
		CreatedAt: timestamp(j.CreatedAt)}
	if j.Error != "" {
		resp.Error = &j.Error
	}
	if j.StartedAt != nil {
		t := timestamp(*j.StartedAt)
		resp.StartedAt = &t
	}
	if j.FinishedAt != nil {
		t := timestamp(*j.FinishedAt)
		resp.FinishedAt = &t
	}
	return resp
}

// bulkUsers serves POST /users/bulk: an action over ids or a filter,
// answered with the result (200) or, for a large selection, a job (202);
// a team admin's reminders reach only the members of their teams.
func (s *Server) bulkUsers(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body.only("action", "ids", "filter", "role")
	req := roster.BulkRequest{Action: body.required("action"), IDs: body.strings("ids")}
	if role := body.string("role"); role != nil {
		req.Role = *role
	}
	if f := body.object("filter"); f != nil {
		req.Filter = bulkFilter(f)
	}
	if err := body.err(); err != nil {
		s.Error(w, r, err)
		return
	}
	if req.Scope, err = roster.PrincipalFromContext(r.Context()).BulkScope(req.Action); err != nil {
		s.Error(w, r, err)
		return
	}
	res, job, err := s.Bulk.BulkUsers(r.Context(), tenantID(r), actor(r), req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if job != nil {
		w.Header().Set("Location", "/api/v1/jobs/"+job.ID)
		writeJSON(w, http.StatusAccepted, struct {
			JobID string `json:"job_id"`
			jobResponse
		}{job.ID, newJobResponse(job)})
		return
	}
	writeJSON(w, http.StatusOK, newBulkResultResponse(res))
}

// bulkFilter reads the selection keys of the users list from f.
func bulkFilter(f *object) *roster.UserFilter {
	f.only(roster.UserFilterKeys...)
	var uf roster.UserFilter
	if q := f.string("q"); q != nil {
		uf.Query = *q
	}
	if email := f.string("email"); email != nil {
		uf.Email = *email
	}
	if role := f.string("role"); role != nil {
		uf.Role = *role
	}
	uf.Active = f.bool("active")
	if mfa := f.string("mfa"); mfa != nil {
		enabled := *mfa == "enabled"
		if !enabled && *mfa != "disabled" {
			f.fail("mfa", "must be enabled or disabled")
		}
		uf.MFA = &enabled
	}
	if m := f.string("mfa_method"); m != nil {
		uf.MFAMethod = *m
	}
	if v := f.string("last_login_before"); v != nil {
		t, err := time.Parse(time.RFC3339Nano, *v)
		if err != nil {
			f.fail("last_login_before", badTime)
		}
		uf.LastLoginBefore = &t
	}
	if v := f.bool("never_signed_in"); v != nil {
		uf.NeverSignedIn = *v
	}
	uf.PendingApproval = f.bool("pending_approval")
	if team := f.string("team"); team != nil {
		uf.Team = *team
	}
	return &uf
}

// getJob serves GET /jobs/{id}.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	job, err := s.Bulk.FindJobByID(r.Context(), tenantID(r), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newJobResponse(job))
}
