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
)

// pageSize is the limit every list scenario asks for (the API's default).
const pageSize = 50

// scenario is one kind of request the bench repeats.
type scenario struct {
	name    string
	request string                  // as shown in the report
	path    func(*rand.Rand) string // the path and query of one request
	list    *listFilter             // the list request's parameters; nil for GET by id
	count   bool                    // GET /api/v1/users/count with list's filters
	ids     []string                // GET by id: the ids it picks from
	note    string                  // what the reader should know about it
	matches int                     // rows the filter matches; -1 when it is not a filter
	// graphQLOf is the REST list scenario a GraphQL one asks the same of.
	graphQLOf *scenario
	// workers, when not 0, is the concurrency of a sweep scenario instead
	// of -concurrency.
	workers int
	// body, when set, makes the request a POST of what it returns.
	body func(*rand.Rand) []byte
}

// permissionCheckName names the scenario of the permission check a
// tenant's services call (issue #15: p99 ≤ 5 ms).
const permissionCheckName = "permission check"

// getByIDName names the GET by id scenario, which the report holds
// against pgbench.
const getByIDName = "GET by id"

// sweepConcurrency are the concurrencies the first page is measured at
// besides -concurrency: whether throughput holds as connections grow.
var sweepConcurrency = []int{1, 64, 256}

// listFilter is a GET /api/v1/users request's parameters.
type listFilter struct {
	q, role, sort, cursor string
	team                  string
	active, mfa           *bool
	mfaMethod             string
	limit                 int
}

func (f listFilter) values() url.Values {
	v := url.Values{}
	v.Set("limit", fmt.Sprint(f.limit))
	if f.q != "" {
		v.Set("q", f.q)
	}
	if f.role != "" {
		v.Set("role", f.role)
	}
	if f.active != nil {
		v.Set("active", fmt.Sprint(*f.active))
	}
	if f.sort != "" {
		v.Set("sort", f.sort)
	}
	if f.cursor != "" {
		v.Set("cursor", f.cursor)
	}
	if f.mfa != nil {
		v.Set("mfa", map[bool]string{true: "enabled", false: "disabled"}[*f.mfa])
	}
	if f.mfaMethod != "" {
		v.Set("mfa_method", f.mfaMethod)
	}
	if f.team != "" {
		v.Set("team", f.team)
	}
	return v
}

// listPath is the request for f, with its parameters in a stable order.
func listPath(f listFilter) string {
	return "/api/v1/users?" + f.values().Encode()
}

// shown is the request as the report shows it: a cursor is abbreviated.
func shown(f listFilter) string {
	if f.cursor != "" {
		g := f
		g.cursor = "CURSOR"
		return "GET " + strings.Replace(listPath(g), "CURSOR", "…", 1)
	}
	return "GET " + listPath(f)
}

func listScenario(name string, f listFilter, note string) *scenario {
	p := listPath(f)
	return &scenario{name: name, request: shown(f), list: &f, note: note, matches: -1,
		path: func(*rand.Rand) string { return p }}
}

// countScenario counts the users f selects, as the console's directory does.
func countScenario(name string, f listFilter, note string) *scenario {
	v := f.values()
	v.Del("limit")
	p := "/api/v1/users/count?" + v.Encode()
	return &scenario{name: name, request: "GET " + p, list: &f, count: true, note: note, matches: -1,
		path: func(*rand.Rand) string { return p }}
}

// addressScenario looks up a random one of emails with the list's key.
func addressScenario(name, key string, emails []string, note string) *scenario {
	return &scenario{
		name:    name,
		request: "GET /api/v1/users?" + key + "={address}",
		ids:     emails,
		note:    fmt.Sprintf("%s; a random address of %d sampled from the tenant per request", note, len(emails)),
		matches: -1,
		path: func(r *rand.Rand) string {
			return "/api/v1/users?" + url.Values{key: {emails[r.IntN(len(emails))]}}.Encode()
		},
	}
}

type listPage struct {
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// fetchPage requests one list page and decodes it.
func fetchPage(ctx context.Context, c *apiClient, path string) (*listPage, error) {
	status, body, err := c.get(ctx, path, true)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %.300s", path, status, body)
	}
	var page listPage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return &page, nil
}

// buildScenarios makes the scenarios, walks the cursor to the deep page,
// samples ids, and checks each scenario answers once before it is measured.
func buildScenarios(ctx context.Context, env *benchEnv, c *apiClient, o options) ([]*scenario, error) {
	yes := true
	var out []*scenario

	first := listScenario("first page", listFilter{limit: pageSize}, "the default order, created_at ascending")
	out = append(out, first)
	for _, n := range sweepConcurrency {
		sc := *first
		sc.name, sc.workers, sc.list = fmt.Sprintf("first page, concurrency %d", n), n, nil
		sc.note = fmt.Sprintf("the first page at concurrency %d: the concurrency sweep", n)
		out = append(out, &sc)
	}

	deep, err := walkToDeepPage(ctx, c, o.deepPages)
	if err != nil {
		return nil, err
	}
	out = append(out, deep)

	for _, q := range o.queries {
		out = append(out, listScenario("q="+q, listFilter{q: q, limit: pageSize}, "word-prefix search over email, user name, given and family name"))
	}
	out = append(out, listScenario("role=admin&active=true", listFilter{role: "admin", active: &yes, limit: pageSize}, "the common administrator filter"))
	out = append(out, listScenario("sort=email", listFilter{sort: "email", limit: pageSize}, "first page in email order"))
	no := false
	out = append(out, listScenario("mfa=disabled&active=true", listFilter{mfa: &no, active: &yes, limit: pageSize}, "the seed's story: active users without a second factor"))
	out = append(out, listScenario("mfa_method=sms", listFilter{mfaMethod: "sms", limit: pageSize}, "users with a verified SMS factor (a tenth of the seed)"))

	out = append(out, countScenario("count mfa=disabled&active=true", listFilter{mfa: &no, active: &yes}, "the directory's count of the seed's story, from the stats counters"))
	out = append(out, countScenario("count role=admin&active=true", listFilter{role: "admin", active: &yes}, "a count from the stats counters"))
	for _, q := range o.queries {
		out = append(out, countScenario("count q="+q, listFilter{q: q}, fmt.Sprintf("a search's count, stopped after %d matches", roster.UserCountCap)))
	}

	out = append(out, graphQLScenarios(out)...)
	out = append(out, teamScenarios(env)...)

	emails, err := env.sampleEmails(ctx, o.idSample)
	if err != nil {
		return nil, err
	}
	out = append(out,
		addressScenario("q=<address>", "q", emails, "a whole address as the search: what scripts look a person up by"),
		addressScenario("email=<address>", "email", emails, "the exact address filter"))

	ids, err := env.sampleIDs(ctx, o.idSample)
	if err != nil {
		return nil, err
	}
	checked := []string{"users:read", "users:write", "tenant:write", "app:tickets.close"}
	out = append(out, &scenario{
		name:    permissionCheckName,
		request: "POST /api/v1/permissions/check",
		note:    fmt.Sprintf(`{"user_id","permission"} for a random one of %d users and of %v: one indexed query per check, no cache`, len(ids), checked),
		matches: -1,
		path:    func(*rand.Rand) string { return "/api/v1/permissions/check" },
		body: func(r *rand.Rand) []byte {
			return fmt.Appendf(nil, `{"user_id":%q,"permission":%q}`, ids[r.IntN(len(ids))], checked[r.IntN(len(checked))])
		},
	})
	out = append(out, &scenario{
		name:    getByIDName,
		request: "GET /api/v1/users/{id}",
		ids:     ids,
		note:    fmt.Sprintf("a random id of %d sampled from the tenant per request", len(ids)),
		matches: -1,
		path:    func(r *rand.Rand) string { return "/api/v1/users/" + ids[r.IntN(len(ids))] },
	})

	for _, sc := range out {
		if sc.graphQLOf != nil {
			if err := checkGraphQL(ctx, c, sc); err != nil {
				return nil, err
			}
			continue
		}
		if sc.list == nil || sc.count {
			rng := rand.New(rand.NewPCG(1, 2))
			method, body := http.MethodGet, []byte(nil)
			if sc.body != nil {
				method, body = http.MethodPost, sc.body(rng)
			}
			status, body, err := c.do(ctx, method, sc.path(rng), body, true)
			if err != nil {
				return nil, err
			}
			if status != http.StatusOK {
				return nil, fmt.Errorf("%s: HTTP %d: %.300s", sc.request, status, body)
			}
			continue
		}
		page, err := fetchPage(ctx, c, sc.path(nil))
		if err != nil {
			return nil, err
		}
		if len(page.Items) == 0 && sc.list.q == "" {
			return nil, fmt.Errorf("%s answered no users", sc.request)
		}
		if sc.list.q != "" || sc.list.role != "" || sc.list.team != "" {
			if sc.matches, err = countMatches(ctx, env, *sc.list); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// walkToDeepPage follows next_cursor from the first page, one request at a
// time, and returns the scenario that requests the page it reached.
func walkToDeepPage(ctx context.Context, c *apiClient, pages int) (*scenario, error) {
	f := listFilter{limit: pageSize}
	start := time.Now()
	walked := 0
	for walked < pages {
		page, err := fetchPage(ctx, c, listPath(f))
		if err != nil {
			return nil, err
		}
		if page.NextCursor == nil {
			break
		}
		f.cursor = *page.NextCursor
		walked++
	}
	took := time.Since(start)
	if walked == 0 {
		return nil, fmt.Errorf("the first page has no next_cursor: too few users for a deep page")
	}
	logf("walked %d pages by cursor in %s (%s a page, one at a time)", walked, took.Round(time.Millisecond), ms(took/time.Duration(walked)))
	name := fmt.Sprintf("deep page (page %d)", walked+1)
	note := fmt.Sprintf("rows %d–%d, reached by walking %d pages with next_cursor (%s a page, one request at a time)",
		walked*pageSize+1, (walked+1)*pageSize, walked, ms(took/time.Duration(walked)))
	return listScenario(name, f, note), nil
}
