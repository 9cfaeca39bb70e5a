package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pgbenchScale is the size of pgbench's database: 1,000,000 accounts,
// the same row count as the default user count.
const pgbenchScale = 10

// pgbenchResult is what `pgbench -S` reported.
type pgbenchResult struct {
	command  string
	tps      float64
	latency  string // average, as pgbench printed it
	failed   string
	binary   string
	duration int      // seconds
	cpu      cpuUsage // over the middle of the run
}

// runPgbench initialises pgbench's database when needed, warms it up and
// runs the select-only built-in script for the scenario duration.
func runPgbench(ctx context.Context, env *benchEnv, o options) (*pgbenchResult, error) {
	bin, err := findPgbench(o.pgbenchBin)
	if err != nil {
		return nil, err
	}
	if err := ensureDatabase(ctx, env.server, o.pgbenchDB); err != nil {
		return nil, err
	}
	if ok, err := pgbenchReady(ctx, env.pgbenchURL.String()); err != nil {
		return nil, err
	} else if !ok {
		logf("initialising %s (pgbench -i -s %d)", o.pgbenchDB, pgbenchScale)
		if _, err := pgbench(ctx, bin, env, "-i", "-s", strconv.Itoa(pgbenchScale), "-q"); err != nil {
			return nil, err
		}
	}
	secs := int(math.Ceil(o.duration.Seconds()))
	if w := int(math.Ceil(o.warmup.Seconds())); o.warmup > 0 {
		if _, err := pgbench(ctx, bin, env, "-S", "-M", "prepared", "-c", strconv.Itoa(o.concurrency), "-j", "2", "-T", strconv.Itoa(w), "-n"); err != nil {
			return nil, err
		}
	}
	args := []string{"-S", "-M", "prepared", "-c", strconv.Itoa(o.concurrency), "-j", "2", "-T", strconv.Itoa(secs)}
	logf("pgbench %s %s", strings.Join(args, " "), o.pgbenchDB)
	var cpu cpuUsage
	out, err := pgbenchWatched(ctx, bin, env, args, func(pid int) {
		// Sample the middle of the run, when all clients are connected.
		if secs < 3 {
			return
		}
		probe := &cpuProbe{db: env.db, dbName: o.pgbenchDB, clientPID: pid}
		if !sleep(ctx, time.Second) {
			return
		}
		before := probe.snapshot(ctx)
		if !sleep(ctx, time.Duration(secs-2)*time.Second) {
			return
		}
		cpu = probe.snapshot(ctx).since(before)
	})
	if err != nil {
		return nil, err
	}
	res := &pgbenchResult{cpu: cpu, command: "pgbench " + strings.Join(args, " ") + " " + o.pgbenchDB, binary: bin, duration: secs}
	m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	res.tps, _ = strconv.ParseFloat(m[1], 64)
	if m := regexp.MustCompile(`latency average = (.+)`).FindStringSubmatch(out); m != nil {
		res.latency = strings.TrimSpace(m[1])
	}
	if m := regexp.MustCompile(`number of failed transactions: (.+)`).FindStringSubmatch(out); m != nil {
		res.failed = strings.TrimSpace(m[1])
	}
	return res, nil
}

// pgbench runs the binary against pgbench's database and returns its output.
func pgbench(ctx context.Context, bin string, env *benchEnv, args ...string) (string, error) {
	return pgbenchWatched(ctx, bin, env, args, nil)
}

// pgbenchWatched is pgbench that calls watch with the process id while it
// runs.
func pgbenchWatched(ctx context.Context, bin string, env *benchEnv, args []string, watch func(pid int)) (string, error) {
	u := env.pgbenchURL
	conn := []string{"-h", u.Hostname(), "-U", u.User.Username()}
	if p := u.Port(); p != "" {
		conn = append(conn, "-p", p)
	}
	cmd := exec.CommandContext(ctx, bin, append(append(args, conn...), strings.Trim(u.Path, "/"))...)
	cmd.Env = os.Environ()
	if pw, ok := u.User.Password(); ok {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+pw)
	}
	if m := u.Query().Get("sslmode"); m != "" {
		cmd.Env = append(cmd.Env, "PGSSLMODE="+m)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("pgbench: %w", err)
	}
	if watch != nil {
		watch(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("pgbench %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// sleep waits d unless ctx ends first; it reports whether it slept.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// pgbenchReady reports whether pgbench's tables exist at the bench scale.
func pgbenchReady(ctx context.Context, dsn string) (bool, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return false, err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('pgbench_accounts') IS NOT NULL AND to_regclass('pgbench_branches') IS NOT NULL`).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		return false, nil
	}
	var branches, accounts int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pgbench_branches), (SELECT count(*) FROM pgbench_accounts)`).Scan(&branches, &accounts); err != nil {
		return false, err
	}
	return branches == pgbenchScale && accounts == pgbenchScale*100_000, nil
}

// findPgbench is the -pgbench flag, pgbench on PATH, or the newest
// /usr/lib/postgresql/*/bin/pgbench.
func findPgbench(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) == 0 {
		return "", fmt.Errorf("pgbench not found: install PostgreSQL's client tools or pass -pgbench, or -skip-pgbench")
	}
	slices.SortFunc(matches, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	return matches[len(matches)-1], nil
}
