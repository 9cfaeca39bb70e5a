package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Targets of the SCIM scenarios.
const (
	scimFilterP99Target = 5 * time.Millisecond // each filter at concurrency 8
	provisionTarget     = 1500.0               // users/s
	bulkTarget          = 2 * time.Second      // 1,000 user POSTs in one /Bulk
	groupSlackTarget    = 1.2                  // big group's PATCH p50 at most 20% above the small one's
)

// scimSections are the SCIM scenarios' results, targets and plans.
func (r *report) scimSections(p func(string, ...any)) {
	s := r.scim
	p("## SCIM\n\n")
	p("`/scim/v2` on the same tenant (%d users after the run), with a token made by\n", s.users)
	p("`roster token create --tenant ID --role admin --scopes scim:provision --name bench-scim --json`. Run id `%s`.\n\n", s.run)
	for _, n := range s.notes {
		p("- %s\n", n)
	}
	p("\n### SCIM results\n\n")
	p("| scenario | request | requests | req/s | p50 | p99 | max | errors |\n")
	p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var measured []result
	row := func(res result) {
		measured = append(measured, res)
		p("| %s | `%s` | %d | %.0f | %s | %s | %s | %d |\n", res.scenario.name, res.scenario.request,
			res.requests, res.rate(), ms(res.percentile(50)), ms(res.percentile(99)), ms(res.max()), res.errors)
	}
	for _, res := range s.filters {
		row(res)
	}
	if s.provision != nil {
		row(*s.provision)
	}
	for _, g := range s.groups {
		row(g.result)
	}
	p("\n")
	for _, res := range measured {
		p("- **%s**: %s.", res.scenario.name, res.scenario.note)
		if res.firstErr != "" {
			p(" First error: `%s`.", res.firstErr)
		}
		p("\n")
	}
	p("\n")

	if len(s.groups) > 0 {
		p("Group PATCH latency by operation:\n\n")
		p("| scenario | add p50 | add p99 | remove p50 | remove p99 |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, g := range s.groups {
			a, rm := g.labelled("add"), g.labelled("remove")
			p("| %s | %s | %s | %s | %s |\n", g.scenario.name, ms(a.percentile(50)), ms(a.percentile(99)), ms(rm.percentile(50)), ms(rm.percentile(99)))
		}
		p("\n")
	}
	if len(s.bulk) > 0 {
		p("`POST /scim/v2/Bulk`, %d user POSTs (the same Okta body) in one request, one request at a time:\n\n", s.bulk[0].ops)
		p("| run | operations | created (201) | wall time | per operation | first failure |\n| ---: | ---: | ---: | ---: | ---: | --- |\n")
		for i, b := range s.bulk {
			p("| %d | %d | %d | %s | %s | %s |\n", i+1, b.ops, b.created, ms(b.wall), ms(b.wall/time.Duration(max(b.ops, 1))), orNone(b.firstFailed))
			measured = append(measured, result{scenario: &scenario{name: fmt.Sprintf("%s %d (per operation)", bulkName, i+1)}, requests: b.created, cpu: b.cpu})
		}
		p("\n")
	}
	r.cpuTable(p, "### Where the CPU went (SCIM)", measured, nil)
	r.scimTargets(p)
	r.scimPlans(p)
}

func (r *report) scimTargets(p func(string, ...any)) {
	s, o := r.scim, r.opts
	p("### SCIM targets\n\n")
	p("| target | measured | met |\n| --- | --- | --- |\n")
	for _, res := range s.filters {
		p99 := res.percentile(99)
		p("| %s: p99 ≤ %s at concurrency %d | %s (%.0f req/s) | %s |\n", res.scenario.name, ms(scimFilterP99Target), o.concurrency,
			ms(p99), res.rate(), verdict(p99 <= scimFilterP99Target && res.errors == 0 && res.requests > 0))
	}
	if res := s.provision; res != nil {
		p("| %s: ≥ %.0f users/s at concurrency %d | %.0f users/s (%d users in %s) | %s |\n", provisionName, provisionTarget, o.concurrency,
			res.rate(), res.requests, res.elapsed.Round(time.Millisecond), verdict(res.rate() >= provisionTarget && res.errors == 0))
	}
	if len(s.bulk) > 0 {
		walls := make([]time.Duration, len(s.bulk))
		ok := true
		for i, b := range s.bulk {
			walls[i] = b.wall
			ok = ok && b.created == b.ops
		}
		slices.Sort(walls)
		median := walls[len(walls)/2]
		all := make([]string, len(s.bulk))
		for i, b := range s.bulk {
			all[i] = ms(b.wall)
		}
		p("| %s: %d user POSTs in one request ≤ %s | median %s of %d (%s) | %s |\n", bulkName, s.bulk[0].ops, bulkTarget,
			ms(median), len(walls), strings.Join(all, ", "), verdict(ok && median <= bulkTarget))
	}
	for _, conc := range slices.Compact([]int{1, o.concurrency}) {
		var big, small *groupResult
		for i := range s.groups {
			g := &s.groups[i]
			switch {
			case g.concurrency != conc:
			case g.size == smallGroupSize:
				small = g
			default:
				big = g
			}
		}
		if big == nil || small == nil || small.percentile(50) == 0 {
			continue
		}
		ratio := float64(big.percentile(50)) / float64(small.percentile(50))
		p("| group PATCH at concurrency %d: %d members cost what %d do (p50 within +%.0f%%) | p50 %s vs %s (×%.2f); p99 %s vs %s | %s |\n",
			conc, big.size, small.size, 100*(groupSlackTarget-1), ms(big.percentile(50)), ms(small.percentile(50)), ratio,
			ms(big.percentile(99)), ms(small.percentile(99)), verdict(ratio <= groupSlackTarget && big.errors == 0 && small.errors == 0))
	}
	p("\n")
}

func (r *report) scimPlans(p func(string, ...any)) {
	s := r.scim
	if len(s.explains) == 0 {
		return
	}
	p("### SCIM query plans\n\n")
	p("`EXPLAIN (ANALYZE, BUFFERS)` of the two statements `store.UserService.QueryUsers` sends for each filter (its first value),\n")
	p("run after the load. The count is rebuilt from `store.UserWhereSQL`; nothing exported builds the page query, so its text\n")
	p("is the service's own, read back from `pg_stat_activity`, planned with the same parameters.\n\n")
	p("| scenario | count reads | page reads |\n| --- | --- | --- |\n")
	for _, e := range s.explains {
		p("| %s | %s | %s |\n", e.name, reads(e.count), reads(e.page))
	}
	p("\n")
	for _, e := range s.explains {
		p("#### %s\n\n", e.name)
		for _, q := range []explainedSQL{e.count, e.page} {
			if q.query == "" {
				p("Page query: not planned (%s).\n\n", q.missing)
				continue
			}
			p("```sql\n%s\n-- %s\n```\n\n", strings.TrimSpace(q.query), formatArgs(q.args))
			p("```\n%s\n```\n\n", q.plan)
		}
	}
}

func reads(q explainedSQL) string {
	if q.query == "" {
		return "—"
	}
	return "`" + strings.Join(q.reads, "`, `") + "`"
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + strings.ReplaceAll(s, "|", "\\|") + "`"
}
