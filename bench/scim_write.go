package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// call is one request of a write scenario and the status it should get.
type call struct {
	label        string // groups latencies ("add", "remove"); "" for a single kind
	method, path string
	body         []byte
	want         int
}

// callResult is a write scenario's measurement: every call's latency in
// result, and by label.
type callResult struct {
	result
	byLabel map[string][]time.Duration // sorted
}

// labelled is the measurement of the calls labelled label alone.
func (r callResult) labelled(label string) result {
	return result{scenario: r.scenario, latencies: r.byLabel[label], requests: len(r.byLabel[label]), elapsed: r.elapsed}
}

// driveCalls runs workers that take units 0..units-1 in turn and make the
// calls unit(n) returns, in order; every call is measured. CPU is measured
// over the whole run.
func driveCalls(ctx context.Context, c *apiClient, sc *scenario, workers, units int, unit func(n int) []call, probe *cpuProbe) callResult {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute) // a hung request cannot hold the run
	defer cancel()
	var (
		next atomic.Int64
		mu   sync.Mutex
		res  = callResult{result: result{scenario: sc}, byLabel: map[string][]time.Duration{}}
		wg   sync.WaitGroup
	)
	var before cpuSnapshot
	if probe != nil {
		before = probe.snapshot(ctx)
	}
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := map[string][]time.Duration{}
			var errs int
			var firstErr string
			for ctx.Err() == nil {
				n := int(next.Add(1) - 1)
				if n >= units {
					break
				}
				for _, k := range unit(n) {
					t0 := time.Now()
					status, body, err := c.do(ctx, k.method, k.path, k.body, true)
					took := time.Since(t0)
					switch {
					case err != nil:
						errs++
						if firstErr == "" {
							firstErr = err.Error()
						}
					case status != k.want:
						errs++
						if firstErr == "" {
							firstErr = fmt.Sprintf("HTTP %d for %s %s: %.200s", status, k.method, k.path, body)
						}
					default:
						lat[k.label] = append(lat[k.label], took)
					}
				}
			}
			mu.Lock()
			for label, l := range lat {
				res.byLabel[label] = append(res.byLabel[label], l...)
				res.latencies = append(res.latencies, l...)
			}
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if probe != nil {
		res.cpu = probe.snapshot(ctx).since(before)
	}
	res.requests = len(res.latencies)
	slices.Sort(res.latencies)
	for _, l := range res.byLabel {
		slices.Sort(l)
	}
	return res
}

// Names for the users the scenarios create.
var (
	scimGivenNames  = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Niklaus"}
	scimFamilyNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Wirth"}
)

// oktaUser is the body Okta POSTs to /Users, without a password: userName
// is the (unique) email, externalId Okta's 20-character user id.
func oktaUser(userName, externalID string, n int) []byte {
	given, family := scimGivenNames[n%len(scimGivenNames)], scimFamilyNames[(n/len(scimGivenNames))%len(scimFamilyNames)]
	b, _ := json.Marshal(map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    userName,
		"name":        map[string]string{"givenName": given, "familyName": family},
		"emails":      []map[string]any{{"primary": true, "value": userName, "type": "work"}},
		"displayName": given + " " + family,
		"locale":      "en-US",
		"externalId":  externalID,
		"groups":      []any{},
		"active":      true,
	})
	return b
}

// provisionedName is the userName of user n of a run's scenario part
// ("p" for provisioning, "b1" for the first bulk request...).
func provisionedName(run, part string, n int) string {
	return fmt.Sprintf("%s%s-%s%06d@example.com", scimUserPrefix, run, part, n)
}

// runProvision POSTs -provision users at -concurrency, then deletes them.
func runProvision(ctx context.Context, env *benchEnv, c *apiClient, o options, probe *cpuProbe, sr *scimResults) error {
	sc := &scenario{
		name:    provisionName,
		request: "POST /scim/v2/Users",
		note: fmt.Sprintf("%d users created one per request, %d at a time: Okta's body without a password, a unique userName (email) and externalId each",
			o.provision, o.concurrency),
		matches: -1,
	}
	logf("scenario %s: %s ×%d", sc.name, sc.request, o.provision)
	res := driveCalls(ctx, c, sc, o.concurrency, o.provision, func(n int) []call {
		return []call{{method: http.MethodPost, path: "/scim/v2/Users", want: http.StatusCreated,
			body: oktaUser(provisionedName(sr.run, "p", n), fmt.Sprintf("00u%s%09d", sr.run, n), n)}}
	}, probe)
	logf("  %s", res.summary())
	sr.provision = &res.result
	pattern := scimUserPrefix + sr.run + "-p%"
	deleted, err := env.deleteSCIMUsers(ctx, pattern)
	if err != nil {
		return err
	}
	logf("  deleted %d users (%s)", deleted, pattern)
	sr.notef("%s: the %d users created were deleted afterwards with one `DELETE FROM users WHERE tenant_id = $1 AND lower(user_name) LIKE '%s'` (%d rows).",
		provisionName, res.requests, pattern, deleted)
	return nil
}

// bulkRun is one timed /Bulk request.
type bulkRun struct {
	wall        time.Duration
	ops         int
	created     int // operations answered 201
	status      int // of the bulk request
	firstFailed string
	cpu         cpuUsage
}

// runBulk times -bulk-runs requests of -bulk-ops user POSTs each, then
// deletes the users.
func runBulk(ctx context.Context, env *benchEnv, baseURL, token string, o options, probe *cpuProbe, sr *scimResults) error {
	c, err := newClient(baseURL, token, 1)
	if err != nil {
		return err
	}
	c.http.Timeout = 10 * time.Minute
	logf("scenario %s: POST /scim/v2/Bulk of %d user POSTs ×%d", bulkName, o.bulkOps, o.bulkRuns)
	for k := 1; k <= o.bulkRuns; k++ {
		part := fmt.Sprintf("b%d-", k)
		ops := make([]map[string]any, o.bulkOps)
		for i := range ops {
			ops[i] = map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprintf("u%d", i),
				"data": json.RawMessage(oktaUser(provisionedName(sr.run, part, i), fmt.Sprintf("00u%s%d%08d", sr.run, k, i), i))}
		}
		body, err := json.Marshal(map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
			"Operations": ops,
		})
		if err != nil {
			return err
		}
		run := bulkRun{ops: o.bulkOps}
		before := probe.snapshot(ctx)
		t0 := time.Now()
		status, resp, err := c.do(ctx, http.MethodPost, "/scim/v2/Bulk", body, true)
		run.wall = time.Since(t0)
		run.cpu = probe.snapshot(ctx).since(before)
		if err != nil {
			return fmt.Errorf("POST /scim/v2/Bulk: %w", err)
		}
		run.status = status
		var out struct {
			Operations []struct {
				Status   string          `json:"status"`
				Response json.RawMessage `json:"response"`
			} `json:"Operations"`
		}
		if status == http.StatusOK && json.Unmarshal(resp, &out) == nil {
			for _, op := range out.Operations {
				if op.Status == "201" {
					run.created++
				} else if run.firstFailed == "" {
					run.firstFailed = fmt.Sprintf("status %s: %.200s", op.Status, op.Response)
				}
			}
		} else {
			run.firstFailed = fmt.Sprintf("HTTP %d: %.200s", status, resp)
		}
		logf("  bulk %d: %d of %d created in %s (%d KiB request)", k, run.created, run.ops, run.wall.Round(time.Millisecond), len(body)>>10)
		sr.bulk = append(sr.bulk, run)
	}
	pattern := scimUserPrefix + sr.run + "-b%"
	deleted, err := env.deleteSCIMUsers(ctx, pattern)
	if err != nil {
		return err
	}
	logf("  deleted %d users (%s)", deleted, pattern)
	sr.notef("%s: the users the bulk requests created were deleted afterwards with one `DELETE ... LIKE '%s'` (%d rows).", bulkName, pattern, deleted)
	return nil
}

// groupResult is one group PATCH scenario.
type groupResult struct {
	callResult
	size, concurrency int
}

// groupWarmup is how many unmeasured add+remove pairs precede each group
// PATCH scenario.
const groupWarmup = 20

// runGroups measures adding a member to, and removing it from, a group of
// -big-group members and one of 10, one request at a time and at
// -concurrency; each pair uses a user in neither group.
func runGroups(ctx context.Context, env *benchEnv, c *apiClient, o options, probe *cpuProbe, sr *scimResults) error {
	groups := map[int]*benchGroup{}
	for _, size := range []int{o.bigGroup, smallGroupSize} {
		g, err := env.ensureGroup(ctx, fmt.Sprintf("bench-scim-%d", size), size)
		if err != nil {
			return err
		}
		groups[size] = g
	}
	big, small := groups[o.bigGroup], groups[smallGroupSize]
	sr.notef("Groups `%s` (%d members) and `%s` (%d members) are made once by the bench with SQL inserts: their members are the tenant's first users in id order.",
		big.name, big.members, small.name, small.members)
	candidates, err := env.memberCandidates(ctx, big.boundary, o.groupPatches+groupWarmup)
	if err != nil {
		return err
	}
	for _, conc := range slices.Compact([]int{1, o.concurrency}) {
		for _, g := range []*benchGroup{big, small} {
			name := groupScenarioName(g.members, conc)
			if !o.run.MatchString(name) {
				continue
			}
			sc := &scenario{
				name:    name,
				request: "PATCH /scim/v2/Groups/{id}",
				note: fmt.Sprintf("%d pairs, %d at a time, each with its own user: add one member (Okta: `add` `members` `[{value}]`), then remove it (`remove` `members[value eq \"…\"]`); 204 each. PATCHes of one group queue on its row lock (`FOR UPDATE`)",
					o.groupPatches, conc),
				matches: -1,
			}
			pair := func(offset int) func(n int) []call {
				return func(n int) []call { return memberPair(g.id, candidates[offset+n]) }
			}
			driveCalls(ctx, c, sc, conc, groupWarmup, pair(o.groupPatches), nil)
			logf("scenario %s: add+remove ×%d", name, o.groupPatches)
			res := driveCalls(ctx, c, sc, conc, o.groupPatches, pair(0), probe)
			logf("  %s; add p50 %s, remove p50 %s", res.summary(), ms(res.labelled("add").percentile(50)), ms(res.labelled("remove").percentile(50)))
			sr.groups = append(sr.groups, groupResult{callResult: res, size: g.members, concurrency: conc})
		}
	}
	// Put the memberships back should a pair have failed half-way.
	for _, g := range []*benchGroup{big, small} {
		if _, err := env.ensureGroup(ctx, g.name, g.members); err != nil {
			return err
		}
	}
	return nil
}

// memberPair adds user to group and removes it again, as Okta does.
func memberPair(groupID, userID string) []call {
	const patchOp = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[%s]}`
	add := fmt.Sprintf(patchOp, fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, userID))
	remove := fmt.Sprintf(patchOp, fmt.Sprintf(`{"op":"remove","path":%q}`, fmt.Sprintf(`members[value eq %q]`, userID)))
	path := "/scim/v2/Groups/" + groupID
	return []call{
		{label: "add", method: http.MethodPatch, path: path, body: []byte(add), want: http.StatusNoContent},
		{label: "remove", method: http.MethodPatch, path: path, body: []byte(remove), want: http.StatusNoContent},
	}
}
