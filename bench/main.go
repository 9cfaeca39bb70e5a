// Command bench measures Roster's user directory reads against a large
// tenant and compares GET-by-id throughput with pgbench's select-only rate
// on the same PostgreSQL; its SCIM scenarios (names starting "scim")
// measure /scim/v2 filters, provisioning, /Bulk and group PATCH on the
// same tenant.
//
//	go run ./bench                       # 1,000,000 users, 10 s per scenario
//	go run ./bench -duration 30s -explain -out docs/benchmarks.md
//	go run ./bench -run '^scim' -explain -skip-pgbench
//
// Setup is automatic and idempotent: the roster_bench database, the "bench"
// tenant, the seeded users and the pgbench database are made only when
// missing. The service is built from this module, started on a free
// loopback port and stopped with SIGTERM at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command line flags.
type options struct {
	users       int
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	maxRequests int
	deepPages   int
	idSample    int
	queries     []string
	explain     bool
	out         string
	dbName      string
	pgbenchDB   string
	pgbenchBin  string
	fresh       bool
	skipPgbench bool
	run         *regexp.Regexp

	// SCIM scenarios (bench/scim*.go).
	provision    int
	bulkOps      int
	bulkRuns     int
	groupPatches int
	bigGroup     int
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&o.users, "users", 1_000_000, "users in the bench tenant (seeded up to this count when fewer)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario, and pgbench's -T")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each scenario")
	fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent clients (HTTP workers and pgbench -c)")
	fs.IntVar(&o.maxRequests, "max-requests", 2_000_000, "upper bound on requests per scenario")
	fs.IntVar(&o.deepPages, "deep-pages", 1000, "how many pages deep the cursor walk goes")
	fs.IntVar(&o.idSample, "ids", 5000, "how many random existing users GET /users/{id} and each SCIM filter pick from")
	queries := fs.String("q", "a,smi,example.org,ander,olga tanaka,zzyzx", "comma-separated q searches, one scenario each")
	fs.BoolVar(&o.explain, "explain", false, "print EXPLAIN (ANALYZE, BUFFERS) of each scenario's SQL")
	fs.StringVar(&o.out, "out", "", "write the report as markdown to this file (text after the end-of-report marker is kept)")
	fs.StringVar(&o.dbName, "db", "roster_bench", "Roster's database on the server")
	fs.StringVar(&o.pgbenchDB, "pgbench-db", "roster_pgbench", "pgbench's database on the server (pgbench -i -s 10 when missing)")
	fs.StringVar(&o.pgbenchBin, "pgbench", "", "pgbench binary (default: from PATH, else /usr/lib/postgresql/*/bin)")
	fs.BoolVar(&o.fresh, "fresh", false, "drop and recreate Roster's bench database first, so that the seed time is measured")
	fs.BoolVar(&o.skipPgbench, "skip-pgbench", false, "do not run pgbench")
	fs.IntVar(&o.provision, "provision", 10_000, "users the SCIM provisioning scenario creates with POST /scim/v2/Users")
	fs.IntVar(&o.bulkOps, "bulk-ops", 1000, "user POSTs in the one SCIM /Bulk request")
	fs.IntVar(&o.bulkRuns, "bulk-runs", 3, "how many times the /Bulk request is timed")
	fs.IntVar(&o.groupPatches, "group-patches", 300, "member add+remove pairs per group and concurrency in the SCIM group PATCH scenarios")
	fs.IntVar(&o.bigGroup, "big-group", 100_000, "members of the big group of the SCIM group PATCH scenarios (the small one has 10)")
	runPattern := fs.String("run", "", "measure only the scenarios whose name matches this regular expression")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./bench [flags]\n\nEnvironment: DATABASE_URL names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432);\nits database part is ignored: the bench uses databases of its own there.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.run, err = regexp.Compile(*runPattern); err != nil {
		return o, fmt.Errorf("-run: %w", err)
	}
	for _, q := range strings.Split(*queries, ",") {
		if q = strings.TrimSpace(q); q != "" {
			o.queries = append(o.queries, q)
		}
	}
	switch {
	case o.users < 1:
		return o, fmt.Errorf("-users must be at least 1")
	case o.duration <= 0:
		return o, fmt.Errorf("-duration must be positive")
	case o.concurrency < 1:
		return o, fmt.Errorf("-concurrency must be at least 1")
	case o.deepPages < 1:
		return o, fmt.Errorf("-deep-pages must be at least 1")
	case o.idSample < 1:
		return o, fmt.Errorf("-ids must be at least 1")
	case o.maxRequests < 1:
		return o, fmt.Errorf("-max-requests must be at least 1")
	case o.provision < 1 || o.bulkOps < 1 || o.bulkRuns < 1 || o.groupPatches < 1:
		return o, fmt.Errorf("-provision, -bulk-ops, -bulk-runs and -group-patches must be at least 1")
	case o.bigGroup <= smallGroupSize:
		return o, fmt.Errorf("-big-group must be more than %d", smallGroupSize)
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run sets up, measures every scenario, runs pgbench and reports.
func run(ctx context.Context, o options) (err error) {
	started, loadStart := time.Now(), loadAvg()
	env, err := setup(ctx, o)
	if err != nil {
		return err
	}
	defer env.close()

	srv, err := startServer(ctx, env.binary, env.benchURL)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	logf("roster serve is ready on %s (log: %s)", srv.baseURL, srv.logPath)

	token, err := env.createToken(ctx)
	if err != nil {
		return err
	}
	client, err := newClient(srv.baseURL, token, max(o.concurrency, slices.Max(sweepConcurrency)))
	if err != nil {
		return err
	}

	all, err := buildScenarios(ctx, env, client, o)
	if err != nil {
		return err
	}
	scenarios := selectScenarios(all, o.run)
	probe := &cpuProbe{db: env.db, dbName: o.dbName, serverPID: srv.cmd.Process.Pid}
	var results []result
	for _, sc := range scenarios {
		if err := ctx.Err(); err != nil {
			return err
		}
		logf("scenario %s: %s", sc.name, sc.request)
		res := measure(ctx, client, sc, o, probe)
		logf("  %s", res.summary())
		results = append(results, res)
	}

	sr, err := runSCIM(ctx, env, srv.baseURL, o, probe)
	if err != nil {
		return err
	}
	stats, err := runStats(ctx, env, client, o, probe, srv.cmd.Process.Pid)
	if err != nil {
		return err
	}

	console, err := runConsole(ctx, env, client, o)
	if err != nil {
		return err
	}

	var pgb *pgbenchResult
	if !o.skipPgbench {
		if pgb, err = runPgbench(ctx, env, o); err != nil {
			return err
		}
		logf("pgbench -S: %.0f tps", pgb.tps)
	}

	var explains []explainResult
	if o.explain {
		if explains, err = explainScenarios(ctx, env, scenarios); err != nil {
			return err
		}
	}

	rep := &report{
		opts:      o,
		env:       env,
		started:   started,
		loadStart: loadStart,
		results:   results,
		pgbench:   pgb,
		explains:  explains,
		scenarios: scenarios,
		scim:      sr,
		stats:     stats,
		console:   console,
	}
	text := rep.markdown()
	fmt.Println()
	fmt.Print(text)
	if o.out != "" {
		if err := writeReport(o.out, text); err != nil {
			return err
		}
		logf("wrote %s", o.out)
	}
	return nil
}

// logf prints a progress line on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
