package notify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/rosterhq/roster"
)

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// HookConfig configures a HookSender.
type HookConfig struct {
	Guard HookGuard
	// Timeout bounds one delivery, response included; zero is 10s.
	Timeout time.Duration
	// Resolver and Dial stand in for the system's resolver and a
	// net.Dialer in tests, so that a test never sends a packet anywhere
	// but loopback. Dial is only ever given an address that passed Guard.
	Resolver Resolver
	Dial     func(ctx context.Context, network, address string) (net.Conn, error)
}

// HookSender posts events to webhook endpoints, signed as the Standard
// Webhooks specification says, connecting only to addresses its guard
// allows, and following no redirect.
type HookSender struct {
	client *http.Client
}

// HookResult is how an endpoint answered: its status (0 when it did not)
// and how long the delivery took.
type HookResult struct {
	Status  int
	Latency time.Duration
}

// NewHookSender returns a sender for cfg.
func NewHookSender(cfg HookConfig) *HookSender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Dial == nil {
		// The guard runs again at connect time, on the very address.
		cfg.Dial = (&net.Dialer{Timeout: cfg.Timeout, Control: cfg.Guard.Control}).DialContext
	}
	d := &guardedDialer{guard: cfg.Guard, resolver: cfg.Resolver, dial: cfg.Dial}
	return &HookSender{client: &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would connect where the guard never looked
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // the 3xx is the answer, and a failure
		},
	}}
}

// Send posts ev to endpoint, signed with key. Any status outside 2xx, a
// redirect among them, is an error that carries the status in the result.
// Errors never hold the URL, whose query may carry a receiver's secret.
func (s *HookSender) Send(ctx context.Context, endpoint string, key []byte, ev *roster.Event) (HookResult, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return HookResult{}, fmt.Errorf("notify: encode event: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return HookResult{}, errors.New("notify: the webhook URL is not a valid request URL")
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Roster-Webhooks/1")
	req.Header.Set("webhook-id", ev.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", SignHook(key, ev.ID, now, body))
	resp, err := s.client.Do(req)
	res := HookResult{Latency: time.Since(now)}
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return res, fmt.Errorf("notify: webhook not delivered: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	res.Status = resp.StatusCode
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return res, fmt.Errorf("notify: the endpoint answered %d: redirects are not followed", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return res, fmt.Errorf("notify: the endpoint answered %d", resp.StatusCode)
	}
	return res, nil
}

// guardedDialer resolves the host itself and dials only the addresses its
// guard allows, so that a name resolving to an internal address is refused
// as that address would be.
type guardedDialer struct {
	guard    HookGuard
	resolver Resolver
	dial     func(ctx context.Context, network, address string) (net.Conn, error)
}

func (d *guardedDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("notify: bad port %q", portText)
	}
	addrs := []netip.Addr{}
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, a)
	} else if addrs, err = d.resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, fmt.Errorf("notify: resolve the webhook's host: %w", err)
	}
	var firstErr error
	for _, a := range addrs {
		if err := d.guard.Check(a); err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		conn, err := d.dial(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		firstErr = cmp.Or(firstErr, err)
	}
	if firstErr == nil {
		firstErr = errors.New("notify: the webhook's host has no address")
	}
	return nil, firstErr
}
