package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// An error may quote maxErrorBody bytes of a failed response; up to
// maxReadBody bytes are read so redaction sees the whole echoed request.
const (
	maxErrorBody = 200
	maxReadBody  = 16 << 10
)

// newHTTPClient returns a client that gives up after timeout and does not
// follow redirects: a redirected POST would carry the code somewhere else.
func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkURL returns an error unless raw is an absolute http or https URL.
func checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, which may hold a secret token.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("notify: %s: %w", what, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("notify: %s must be an absolute http or https URL", what)
	}
	return nil
}

func checkTimeout(what string, d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("notify: %s timeout %s is negative", what, d)
	case d == 0:
		return DefaultTimeout, nil
	}
	return d, nil
}

// response is what is kept of a provider's answer: its status and the first
// bytes of its body.
type response struct {
	status int
	body   []byte
}

// do sends req and reads at most limit bytes of the answer. The rest is
// drained, a little, so the connection can be reused.
func do(ctx context.Context, client *http.Client, req *http.Request, limit int64) (response, error) {
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// url.Error quotes the URL, which may hold a webhook's secret token.
			err = uerr.Err
		}
		switch {
		case errors.Is(err, context.Canceled), errors.Is(ctx.Err(), context.Canceled):
			return response{}, fmt.Errorf("cancelled: %w", withCause(err, context.Canceled))
		case ctx.Err() != nil, errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
			return response{}, fmt.Errorf("timeout: %w", withCause(err, context.DeadlineExceeded))
		}
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return response{}, fmt.Errorf("reading response (status %d): %w", resp.StatusCode, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return response{status: resp.StatusCode, body: body}, nil
}

// withCause returns err, wrapped with cause unless it already matches it, so
// callers can test for cause with errors.Is.
func withCause(err, cause error) error {
	if errors.Is(err, cause) {
		return err
	}
	return fmt.Errorf("%w (%w)", cause, err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// snippet returns the first maxErrorBody bytes of s as one printable line.
// Redact s before, not after: a cut could split what redaction looks for.
func snippet(s string) string {
	if len(s) > maxErrorBody {
		s = s[:maxErrorBody]
	}
	s = strings.ToValidUTF8(s, "")
	return strings.Join(strings.Fields(s), " ")
}
