package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// apiClient calls the service on loopback with one keep-alive connection
// per worker.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newClient(base, token string, concurrency int) (*apiClient, error) {
	u, err := url.Parse(base)
	if err != nil || !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("the load generator only calls loopback addresses, not %s", base)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy: loopback only
		DialContext:         dialer.DialContext,
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		MaxConnsPerHost:     2 * concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &apiClient{base: base, token: token, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// get requests path and returns the status and, when keep is true, the
// body; otherwise the body is read and dropped (so the connection is reused).
func (c *apiClient) get(ctx context.Context, path string, keep bool) (int, []byte, error) {
	return c.do(ctx, http.MethodGet, path, nil, keep)
}

// do sends a request with body (JSON, or none when nil) and answers as get
// does. SCIM paths send and accept application/scim+json.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, keep bool) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	mediaType := "application/json"
	if strings.HasPrefix(path, "/scim/") {
		mediaType = "application/scim+json"
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", mediaType)
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if keep {
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil, err
}

// result is one scenario's measurement.
type result struct {
	scenario  *scenario
	requests  int // answered 200
	errors    int // transport errors and other statuses
	firstErr  string
	elapsed   time.Duration
	latencies []time.Duration // of the 200s, sorted
	cpu       cpuUsage
	rssKB     int64 // roster serve's resident memory at the end
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// percentile is the nearest-rank percentile p (0..100) of the latencies.
func (r result) percentile(p float64) time.Duration {
	n := len(r.latencies)
	if n == 0 {
		return 0
	}
	i := int(float64(n)*p/100+0.999999) - 1
	return r.latencies[min(max(i, 0), n-1)]
}

func (r result) max() time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[len(r.latencies)-1]
}

func (r result) summary() string {
	s := fmt.Sprintf("%d requests, %.0f req/s, p50 %s, p99 %s, max %s, %d errors",
		r.requests, r.rate(), ms(r.percentile(50)), ms(r.percentile(99)), ms(r.max()), r.errors)
	if r.firstErr != "" {
		s += " (first: " + r.firstErr + ")"
	}
	return s
}

// measure warms the scenario up, then runs o.concurrency workers for
// o.duration or o.maxRequests requests, whichever comes first.
// probe measures where the CPU went meanwhile.
func measure(ctx context.Context, c *apiClient, sc *scenario, o options, probe *cpuProbe) result {
	workers := cmp.Or(sc.workers, o.concurrency)
	if o.warmup > 0 {
		drive(ctx, c, sc, workers, o.warmup, o.maxRequests)
	}
	before := probe.snapshot(ctx)
	res := drive(ctx, c, sc, workers, o.duration, o.maxRequests)
	res.cpu = probe.snapshot(ctx).since(before)
	if probe.serverPID > 0 {
		res.rssKB = procStatusKB(probe.serverPID, "VmRSS")
	}
	return res
}

func drive(ctx context.Context, c *apiClient, sc *scenario, workers int, d time.Duration, maxRequests int) result {
	ctx, cancel := context.WithTimeout(ctx, d+35*time.Second) // a hung request cannot hold the run
	defer cancel()
	var (
		issued   atomic.Int64
		mu       sync.Mutex
		res      = result{scenario: sc}
		wg       sync.WaitGroup
		start    = time.Now()
		deadline = start.Add(d)
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(w)))
			lat := make([]time.Duration, 0, 4096)
			var errs int
			var firstErr string
			for time.Now().Before(deadline) && issued.Add(1) <= int64(maxRequests) && ctx.Err() == nil {
				path := sc.path(rng)
				t0 := time.Now()
				var status int
				var err error
				if sc.body != nil {
					status, _, err = c.do(ctx, http.MethodPost, path, sc.body(rng), false)
				} else {
					status, _, err = c.get(ctx, path, false)
				}
				took := time.Since(t0)
				switch {
				case err != nil:
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
				case status != http.StatusOK:
					errs++
					if firstErr == "" {
						firstErr = fmt.Sprintf("HTTP %d for %s", status, path)
					}
				default:
					lat = append(lat, took)
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}
