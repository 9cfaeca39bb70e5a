package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/store"
)

// The dashboard and export scenarios; -run selects them by these names.
const (
	statsName     = "stats"
	exportCSVName = "export csv"
)

// statsScenarios are GET /api/v1/stats unfiltered and with each filter.
var statsScenarios = []struct{ name, query string }{
	{statsName, ""},
	{statsName + " role=admin", "?role=admin"},
	{statsName + " active=false", "?active=false"},
	{statsName + " role=developer&active=true", "?role=developer&active=true"},
}

// statsResults are the dashboard and export measurements.
type statsResults struct {
	results []result
	// live is how long the same statistics take as a direct aggregate of
	// the users table (store.LiveUserStats), the alternative to counters.
	live       []time.Duration
	liveFilter string
	// matches says whether the counters equalled the direct count.
	matches string
	export  *exportResult
}

// exportResult is one full export's measurement.
type exportResult struct {
	path       string
	took       time.Duration
	firstByte  time.Duration
	bytes      int64
	lines      int64
	rssBefore  int64 // kB, roster serve's resident set before the export
	rssPeak    int64 // kB, the highest resident set sampled during it
	hwmAtStart int64 // kB, VmHWM before (reset when the kernel allows)
	hwmReset   bool
	hwmEnd     int64 // kB, VmHWM after
}

// runStats runs the selected dashboard and export scenarios; nil when
// -run selects none.
func runStats(ctx context.Context, env *benchEnv, c *apiClient, o options, probe *cpuProbe, serverPID int) (*statsResults, error) {
	sr := &statsResults{}
	selected, counters := false, false
	all := slices.Clone(statsScenarios)
	for _, size := range teamSizes {
		all = append(all, struct{ name, query string }{statsName + " team=" + size, "?team=" + env.teams[size]})
	}
	for _, s := range all {
		if !o.run.MatchString(s.name) {
			continue
		}
		selected = true
		path := "/api/v1/stats" + s.query
		note := "dashboard statistics from the counters of migration 0009"
		if strings.Contains(s.query, "team=") {
			note = "the distinct members of a team's subtree: counted live, a large one at most once a minute"
		} else {
			counters = true
		}
		sc := &scenario{name: s.name, request: "GET " + path, matches: -1, path: func(*rand.Rand) string { return path }, note: note}
		if status, body, err := c.get(ctx, path, true); err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("%s: HTTP %d %v: %.300s", path, status, err, body)
		}
		logf("scenario %s: %s", sc.name, sc.request)
		res := measure(ctx, c, sc, o, probe)
		logf("  %s", res.summary())
		sr.results = append(sr.results, res)
	}
	if counters {
		if err := sr.compareLive(ctx, env); err != nil {
			return nil, err
		}
	}
	if o.run.MatchString(exportCSVName) {
		selected = true
		res, err := measureExport(ctx, c, "/api/v1/users/export?format=csv", serverPID)
		if err != nil {
			return nil, err
		}
		sr.export = res
		logf("  export: %d lines, %.1f MB in %s (first byte %s), roster serve RSS %d kB before, peak %d kB",
			res.lines, float64(res.bytes)/1e6, res.took.Round(time.Millisecond), ms(res.firstByte), res.rssBefore, res.rssPeak)
	}
	if !selected {
		return nil, nil
	}
	return sr, nil
}

// compareLive times the direct aggregate the counters replace, and checks
// that both give the same numbers at this size.
func (sr *statsResults) compareLive(ctx context.Context, env *benchEnv) error {
	db, err := store.Open(ctx, env.benchURL)
	if err != nil {
		return err
	}
	defer db.Close()
	stats := store.NewStatsService(db)
	yes := true
	filters := []roster.StatsFilter{{}, {Role: roster.RoleAdmin}, {Role: roster.RoleDeveloper, Active: &yes}}
	sr.liveFilter = "unfiltered"
	sr.matches = "yes, unfiltered, role=admin and role=developer&active=true"
	for i, f := range filters {
		var live *roster.UserStats
		for range 5 {
			t0 := time.Now()
			if live, err = stats.LiveUserStats(ctx, env.tenantID, f); err != nil {
				return err
			}
			if i == 0 {
				sr.live = append(sr.live, time.Since(t0))
			}
		}
		counted, err := stats.UserStats(ctx, env.tenantID, f)
		if err != nil {
			return err
		}
		counted.AsOf, live.AsOf = time.Time{}, time.Time{} // counted at two instants
		if !reflect.DeepEqual(counted, live) {
			sr.matches = fmt.Sprintf("**no**: filter %+v: counters %+v, direct %+v", f, counted, live)
			logf("  MISMATCH %s", sr.matches)
		}
	}
	slices.Sort(sr.live)
	logf("  direct aggregate (store.LiveUserStats, unfiltered) x5: %v; counters match: %s", sr.live, sr.matches)
	return nil
}

// measureExport downloads one export, counting its bytes and lines, while
// sampling the server's resident set every 20 ms.
func measureExport(ctx context.Context, c *apiClient, path string, serverPID int) (*exportResult, error) {
	res := &exportResult{path: path, rssBefore: procStatusKB(serverPID, "VmRSS"), hwmAtStart: procStatusKB(serverPID, "VmHWM")}
	// Writing 5 to clear_refs resets VmHWM to the current RSS, so that
	// the peak measured is this export's.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", serverPID), []byte("5"), 0); err == nil {
		res.hwmReset = true
		res.hwmAtStart = procStatusKB(serverPID, "VmHWM")
	}
	var peak atomic.Int64
	peak.Store(res.rssBefore)
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if rss := procStatusKB(serverPID, "VmRSS"); rss > peak.Load() {
					peak.Store(rss)
				}
			}
		}
	}()
	defer close(done)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	// No client timeout: a full export takes longer than a page.
	client := &http.Client{Transport: c.http.Transport}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	rd := bufio.NewReaderSize(resp.Body, 64<<10)
	first := true
	for {
		line, err := rd.ReadSlice('\n')
		if first && len(line) > 0 {
			res.firstByte, first = time.Since(start), false
		}
		res.bytes += int64(len(line))
		if len(line) > 0 && line[len(line)-1] == '\n' {
			res.lines++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("GET %s: after %d bytes: %w", path, res.bytes, err)
		}
	}
	res.took = time.Since(start)
	res.rssPeak = peak.Load()
	res.hwmEnd = procStatusKB(serverPID, "VmHWM")
	return res, nil
}

// procStatusKB reads a "kB" field of /proc/PID/status; 0 when unreadable.
func procStatusKB(pid int, key string) int64 {
	f := procField(fmt.Sprintf("/proc/%d/status", pid), key)
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(f), " kB"), 10, 64)
	return n
}

// statsSections reports the dashboard and export scenarios.
func (r *report) statsSections(p func(string, ...any)) {
	sr := r.stats
	p("## Dashboard statistics and export\n\n")
	if len(sr.results) > 0 {
		p("Target: p99 ≤ 50 ms for `GET /api/v1/stats` at 1,000,000 users, %d concurrent clients.\n\n", r.opts.concurrency)
		p("| scenario | request | requests | req/s | p50 | p99 | max | errors | p99 ≤ 50 ms |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
		for _, res := range sr.results {
			p("| %s | `%s` | %d | %.0f | %s | %s | %s | %d | %s |\n", res.scenario.name, res.scenario.request, res.requests, res.rate(),
				ms(res.percentile(50)), ms(res.percentile(99)), ms(res.max()), res.errors, verdict(res.percentile(99) <= 50*time.Millisecond))
		}
		p("\n")
		if len(sr.live) > 0 {
			p("The same numbers as a direct aggregate of the tables (`store.LiveUserStats`, %s, one at a time, 5 runs): min %s, median %s, max %s. ",
				sr.liveFilter, ms(sr.live[0]), ms(sr.live[len(sr.live)/2]), ms(sr.live[len(sr.live)-1]))
			p("Counters equal the direct count: %s.\n\n", sr.matches)
		}
		r.cpuTable(p, "### Where the CPU went (stats)", sr.results, nil)
	}
	if e := sr.export; e != nil {
		p("### Export\n\n`GET %s`, one request, the body read as fast as the client can:\n\n", e.path)
		p("| lines | bytes | time | first byte | rows/s | roster serve RSS before | peak RSS during (sampled every 20 ms) | VmHWM at start → end |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
		reset := ""
		if e.hwmReset {
			reset = " (reset at start)"
		}
		p("| %d | %.1f MB | %s | %s | %.0f | %.1f MB | %.1f MB | %.1f → %.1f MB%s |\n\n", e.lines, float64(e.bytes)/1e6, e.took.Round(time.Millisecond),
			ms(e.firstByte), float64(e.lines-1)/e.took.Seconds(), float64(e.rssBefore)/1024, float64(e.rssPeak)/1024,
			float64(e.hwmAtStart)/1024, float64(e.hwmEnd)/1024, reset)
	}
}
