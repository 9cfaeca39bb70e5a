package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// The SCIM scenarios measure /scim/v2 on the bench tenant as an identity
// provider uses it: filtered lookups of existing users, provisioning one
// user per request and 1,000 in one /Bulk, and group membership changes on
// a big and a small group. Their names start with "scim", for -run.

// scimPageSize is the count Okta asks for with its filters.
const scimPageSize = 100

// scimFilter is a filter scenario: attr eq one of values.
type scimFilter struct {
	sc     *scenario
	attr   string // as the SCIM client writes it
	to     string // the roster attribute the SCIM layer compares, for store.UserWhereSQL
	values []string
}

// scimResults is what the SCIM scenarios measured and how they left the
// tenant.
type scimResults struct {
	run       string // this run's id, in every userName it created
	notes     []string
	filters   []result
	explains  []scimExplain
	provision *result
	bulk      []bulkRun
	groups    []groupResult
	users     int // users in the tenant afterwards
}

// scimExplain is one filter's two queries, planned.
type scimExplain struct {
	name        string
	count, page explainedSQL
}

type explainedSQL struct {
	query, plan, missing string // missing: why there is no plan
	args                 []any
	reads                []string
}

func (s *scimResults) notef(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// scimScenarioNames are the names -run selects the SCIM scenarios by.
func scimFilterName(attr string) string { return "scim filter " + attr }

const (
	provisionName = "scim provision"
	bulkName      = "scim bulk"
)

func groupScenarioName(size, concurrency int) string {
	return fmt.Sprintf("scim group PATCH %d members c%d", size, concurrency)
}

// runSCIM runs the selected SCIM scenarios; nil when -run selects none.
func runSCIM(ctx context.Context, env *benchEnv, baseURL string, o options, probe *cpuProbe) (*scimResults, error) {
	sel := o.run.MatchString
	filters := []*scimFilter{
		{attr: "userName", to: roster.AttrUserName},
		{attr: "externalId", to: roster.AttrExternalID},
		{attr: "emails.value", to: roster.AttrEmail},
	}
	var chosen []*scimFilter
	for _, f := range filters {
		if sel(scimFilterName(f.attr)) {
			chosen = append(chosen, f)
		}
	}
	groupsWanted := false
	for _, size := range []int{o.bigGroup, smallGroupSize} {
		for _, c := range []int{1, o.concurrency} {
			groupsWanted = groupsWanted || sel(groupScenarioName(size, c))
		}
	}
	if len(chosen) == 0 && !sel(provisionName) && !sel(bulkName) && !groupsWanted {
		return nil, nil
	}

	sr := &scimResults{run: fmt.Sprintf("%08x", rand.Uint32())}
	token, err := env.createSCIMToken(ctx)
	if err != nil {
		return nil, err
	}
	c, err := newClient(baseURL, token, o.concurrency)
	if err != nil {
		return nil, err
	}
	if n, err := env.deleteSCIMUsers(ctx, scimUserPrefix+"%"); err != nil {
		return nil, err
	} else if n > 0 {
		logf("deleted %d users left by an earlier SCIM run", n)
	}
	logf("SCIM run %s", sr.run)

	if len(chosen) > 0 {
		if err := runFilters(ctx, env, c, o, probe, chosen, sr); err != nil {
			return nil, err
		}
	}
	wrote := false
	if sel(provisionName) {
		wrote = true
		if err := runProvision(ctx, env, c, o, probe, sr); err != nil {
			return nil, err
		}
	}
	if sel(bulkName) {
		wrote = true
		if err := runBulk(ctx, env, baseURL, token, o, probe, sr); err != nil {
			return nil, err
		}
	}
	if groupsWanted {
		wrote = true
		if err := runGroups(ctx, env, c, o, probe, sr); err != nil {
			return nil, err
		}
	}
	if wrote {
		// Deleted users leave dead rows; vacuum so that the next run (REST
		// lists use index-only scans) finds the table as it was.
		start := time.Now()
		if _, err := env.db.ExecContext(ctx, `VACUUM (ANALYZE) users`); err != nil {
			return nil, err
		}
		logf("VACUUM (ANALYZE) users after the SCIM writes: %s", time.Since(start).Round(time.Millisecond))
	}
	if err := env.countUsers(ctx); err != nil {
		return nil, err
	}
	sr.users = env.users
	return sr, nil
}

// runFilters measures GET /scim/v2/Users?filter=ATTR eq "VALUE" for each
// filter, a random existing value per request, and plans its SQL.
func runFilters(ctx context.Context, env *benchEnv, c *apiClient, o options, probe *cpuProbe, filters []*scimFilter, sr *scimResults) error {
	for _, f := range filters {
		if f.attr == "externalId" {
			if err := env.ensureExternalIDs(ctx, externalIDs); err != nil {
				return err
			}
			sr.notef("%d seeded users carry an Okta-style external id (`00u` + 17 hex digits), set once by the bench with one UPDATE; the seed gives none.", externalIDs)
		}
	}
	vals, err := env.sampleSCIMValues(ctx, o.idSample)
	if err != nil {
		return err
	}
	for _, f := range filters {
		switch f.attr {
		case "userName":
			f.values = vals.userNames
		case "externalId":
			f.values = vals.externalIDs
		default:
			f.values = vals.emails
		}
		paths := make([]string, len(f.values))
		for i, v := range f.values {
			paths[i] = filterPath(f.attr, v)
		}
		f.sc = &scenario{
			name:    scimFilterName(f.attr),
			request: fmt.Sprintf(`GET /scim/v2/Users?filter=%s eq "…"&startIndex=1&count=%d`, f.attr, scimPageSize),
			note:    fmt.Sprintf("a random one of %d existing values per request (each matches one user), in Okta's request shape", len(f.values)),
			matches: 1,
			path:    func(r *rand.Rand) string { return paths[r.IntN(len(paths))] },
		}
		for _, v := range f.values[:min(3, len(f.values))] {
			if err := checkFilter(ctx, c, f.attr, v); err != nil {
				return err
			}
		}
		logf("scenario %s: %s", f.sc.name, f.sc.request)
		res := measure(ctx, c, f.sc, o, probe)
		logf("  %s", res.summary())
		sr.filters = append(sr.filters, res)
		if o.explain {
			e, err := explainFilter(ctx, env, c, f, o.dbName)
			if err != nil {
				return err
			}
			sr.explains = append(sr.explains, e)
		}
	}
	return nil
}

// filterPath is the list request for attr eq value.
func filterPath(attr, value string) string {
	quoted, _ := json.Marshal(value) // a SCIM filter string is a JSON string
	q := url.Values{"filter": {attr + " eq " + string(quoted)}, "startIndex": {"1"}, "count": {fmt.Sprint(scimPageSize)}}
	return "/scim/v2/Users?" + q.Encode()
}

// checkFilter asks for one value and wants exactly one user back.
func checkFilter(ctx context.Context, c *apiClient, attr, value string) error {
	path := filterPath(attr, value)
	status, body, err := c.get(ctx, path, true)
	if err != nil {
		return err
	}
	var list struct {
		TotalResults int `json:"totalResults"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil || list.TotalResults != 1 {
		return fmt.Errorf("GET %s: HTTP %d, want one user: %.300s", path, status, body)
	}
	return nil
}

// explainFilter plans the two statements QueryUsers sends for the filter's
// first value. The count is rebuilt from store.UserWhereSQL; the store
// exports nothing that builds the page query, so the service's own text is
// read back from pg_stat_activity (the last statement of the backend that
// served one more request) and planned with the same parameters.
func explainFilter(ctx context.Context, env *benchEnv, c *apiClient, f *scimFilter, dbName string) (scimExplain, error) {
	e := scimExplain{name: f.sc.name}
	where, args, err := store.UserWhereSQL(roster.Compare{Attr: f.to, Op: roster.OpEq, Value: f.values[0]}, env.tenantID)
	if err != nil {
		return e, fmt.Errorf("%s: %w", f.sc.name, err)
	}
	cond := `FROM users WHERE tenant_id = $1 AND (` + where + `)`
	e.count = explainedSQL{query: `SELECT count(*) ` + cond, args: args}
	e.page = explainedSQL{args: append(args[:len(args):len(args)], scimPageSize, 0)}

	if status, _, err := c.get(ctx, filterPath(f.attr, f.values[0]), false); err != nil || status != http.StatusOK {
		return e, fmt.Errorf("%s: HTTP %d, %v", f.sc.name, status, err)
	}
	seen, err := queryStrings(ctx, env.db, `SELECT query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, dbName)
	if err != nil {
		return e, err
	}
	for _, q := range seen {
		if strings.Contains(q, cond+` ORDER BY `) && strings.Contains(q, ` LIMIT $`+fmt.Sprint(len(args)+1)) {
			e.page.query = q
			break
		}
	}
	if e.page.query == "" {
		e.page.missing = "the page query was not found in pg_stat_activity"
	}
	for _, s := range []*explainedSQL{&e.count, &e.page} {
		if s.query == "" {
			continue
		}
		if s.plan, s.reads, err = explainSQL(ctx, env.db, s.query, s.args); err != nil {
			return e, fmt.Errorf("EXPLAIN %s: %w", f.sc.name, err)
		}
	}
	logf("EXPLAIN %s: count reads %s; page reads %s", f.sc.name, strings.Join(e.count.reads, ", "), strings.Join(e.page.reads, ", "))
	return e, nil
}
