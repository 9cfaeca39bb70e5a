package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// consoleRounds is how often each console screen is opened.
const consoleRounds = 3

// consoleScreen is one console address and what shows it is drawn and
// usable: the console marks the body ready once a screen's data is drawn,
// and the directory marks its list once the page and the count are in.
type consoleScreen struct {
	name, path string
}

var consoleScreens = []consoleScreen{
	{"console dashboard", "/console"},
	{"console directory", "/console/users"},
	{"console directory mfa=disabled&active=true", "/console/users?mfa=disabled&active=true"},
	{"console directory role=admin&sort=-last_login_at", "/console/users?role=admin&sort=-last_login_at"},
	{"console directory q=smi", "/console/users?q=smi"},
	{"console directory q=ander", "/console/users?q=ander"},
}

// consoleTiming is how long one screen took, each round.
type consoleTiming struct {
	name, path string
	rounds     []time.Duration
}

// runConsole opens console screens in Chromium, signed in as an admin of
// the bench tenant (a new password through a setup link, as
// `roster user reset-link` gives a locked-out admin), and times each from
// navigation to a drawn, usable screen; then it types a search and times
// the list's update after the last key. Only the screens -run selects.
func runConsole(ctx context.Context, env *benchEnv, admin *apiClient, o options) ([]consoleTiming, error) {
	baseURL := admin.base
	var screens []consoleScreen
	for _, s := range consoleScreens {
		if o.run.MatchString(s.name) {
			screens = append(screens, s)
		}
	}
	typing := o.run.MatchString("console search as you type")
	if len(screens) == 0 && !typing {
		return nil, nil
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		return nil, fmt.Errorf("the console is measured in Chromium, which is missing (%v): apt-get install chromium, or -run to leave out the console", err)
	}
	session, err := env.consoleSession(ctx, admin, baseURL)
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(env.tmpDir+"/chromium"), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := browse(bctx, chromedp.Navigate(baseURL+"/console")); err != nil {
		return nil, fmt.Errorf("open the console: %w", err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](fmt.Sprintf(`sessionStorage.setItem('roster.console.session', %q), true`, session))); err != nil {
		return nil, fmt.Errorf("sign in the console: %w", err)
	}

	var out []consoleTiming
	for _, s := range screens {
		t := consoleTiming{name: s.name, path: s.path}
		for range consoleRounds {
			d, err := timeScreen(bctx, baseURL, s.path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			t.rounds = append(t.rounds, d)
		}
		logf("%s: %s", s.name, t.summary())
		out = append(out, t)
	}
	if typing {
		t := consoleTiming{name: "console search as you type", path: "/console/users, typing “smi”"}
		for range consoleRounds {
			d, err := timeTyping(bctx, baseURL, "smi")
			if err != nil {
				return nil, fmt.Errorf("search as you type: %w", err)
			}
			t.rounds = append(t.rounds, d)
		}
		logf("%s: %s", t.name, t.summary())
		out = append(out, t)
	}
	return out, nil
}

// readyJS holds once the screen at path is drawn, and for the directory
// its list and count too.
func readyJS(path string) string {
	u, _ := url.Parse(path)
	search := ""
	if u.RawQuery != "" {
		search = "?" + u.RawQuery
	}
	cond := fmt.Sprintf(`document.body.dataset.ready === 'true' && location.pathname === %q && location.search === %q`, u.Path, search)
	if strings.HasPrefix(u.Path, "/console/users") {
		cond += ` && document.body.dataset.listReady === 'true'`
	}
	return cond
}

func timeScreen(ctx context.Context, baseURL, path string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// A blank page first, so that nothing of the last screen is reused
	// but what a browser caches.
	if err := browse(ctx, chromedp.Navigate("about:blank")); err != nil {
		return 0, err
	}
	start := time.Now()
	err := browse(ctx, chromedp.Navigate(baseURL+path), waitFor(readyJS(path)))
	return time.Since(start), err
}

// timeTyping types q into the directory's search box one key at a time,
// as a person would, and times from the last key to the list and count of
// q drawn.
func timeTyping(ctx context.Context, baseURL, q string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := browse(ctx, chromedp.Navigate(baseURL+"/console/users"), waitFor(readyJS("/console/users")),
		chromedp.Focus(chromedp.CSS("#filter-q"))); err != nil {
		return 0, err
	}
	for i, r := range q {
		if i > 0 {
			time.Sleep(120 * time.Millisecond) // a quick typist
		}
		if err := browse(ctx, chromedp.KeyEvent(string(r))); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	err := browse(ctx, waitFor(readyJS("/console/users?q="+url.QueryEscape(q))))
	return time.Since(start), err
}

// browse runs the actions one after the other.
func browse(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	return chromedp.Do(ctx, actions...)
}

// waitFor polls the page until the JavaScript condition holds.
func waitFor(cond string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](cond, chromedp.WithPollingInterval(5*time.Millisecond))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}

func (t consoleTiming) summary() string {
	s := slices.Clone(t.rounds)
	slices.Sort(s)
	return fmt.Sprintf("%s (fastest) to %s (slowest) over %d rounds", seconds(s[0]), seconds(s[len(s)-1]), len(s))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// consoleAdmin is the admin the console is measured as: made on the first
// run, given a new password through a setup link on every run.
const consoleAdmin = "console-admin@bench.example"

// consoleSession signs in the console's admin with a new password set
// through a setup link, and answers the console's stored session.
func (env *benchEnv) consoleSession(ctx context.Context, admin *apiClient, baseURL string) (string, error) {
	email := consoleAdmin
	status, body, err := admin.do(ctx, http.MethodPost, "/api/v1/users", []byte(`{"email":"`+email+`","role":"admin"}`), true)
	if err != nil {
		return "", err
	}
	if status != http.StatusCreated && status != http.StatusConflict {
		return "", fmt.Errorf("make the console's admin: HTTP %d: %.300s", status, body)
	}
	out, err := env.roster(ctx, "user", "reset-link", "--tenant", env.tenantID, "--email", email, "--json")
	if err != nil {
		return "", err
	}
	var link struct {
		URL string `json:"admin_setup_url"`
	}
	if err := json.Unmarshal([]byte(out), &link); err != nil {
		return "", fmt.Errorf("roster user reset-link printed %q: %w", out, err)
	}
	u, err := url.Parse(link.URL)
	if err != nil {
		return "", err
	}
	password := "bench-console-" + fmt.Sprint(time.Now().UnixNano())
	c, err := newClient(baseURL, "", 1)
	if err != nil {
		return "", err
	}
	if err := c.postJSON(ctx, "/api/v1/admin-setup/accept", map[string]any{"token": u.Query().Get("token"), "password": password}, nil); err != nil {
		return "", err
	}
	var tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		MFARequired  bool   `json:"mfa_required"`
	}
	if err := c.postJSON(ctx, "/api/v1/auth/login", map[string]any{"tenant": u.Query().Get("tenant"), "username": email, "password": password}, &tokens); err != nil {
		return "", err
	}
	if tokens.AccessToken == "" {
		return "", fmt.Errorf("signing in the bench admin answered no tokens (a second factor is due: %t)", tokens.MFARequired)
	}
	session, err := json.Marshal(map[string]any{"access_token": tokens.AccessToken, "refresh_token": tokens.RefreshToken, "enrolment_only": false})
	return string(session), err
}

// postJSON posts body and decodes a 200 answer into out, when not nil.
func (c *apiClient) postJSON(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	status, resp, err := c.do(ctx, http.MethodPost, path, b, true)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("POST %s: HTTP %d: %.300s", path, status, resp)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp, out)
}

// consoleSection is the console's screens' times, with the target.
func (r *report) consoleSection(p func(string, ...any)) {
	p("## The console in Chromium\n\n")
	p("Headless Chromium on the same machine, signed in as the tenant's admin; each screen opened %d times\n", consoleRounds)
	p("from a blank page, timed from navigation to the screen drawn with its data (for the directory: the\n")
	p("first page of 50 and the count). Search as you type: \"smi\" typed at 120 ms a key, timed from the last\n")
	p("key to the list and count of `q=smi` drawn (the box waits 300 ms for more keys first).\n\n")
	p("| screen | address | fastest | slowest | within 1 s |\n| --- | --- | ---: | ---: | --- |\n")
	for _, t := range r.console {
		s := slices.Clone(t.rounds)
		slices.Sort(s)
		met := "yes"
		if s[len(s)-1] > time.Second {
			met = "**no**"
		}
		p("| %s | `%s` | %s | %s | %s |\n", strings.TrimPrefix(t.name, "console "), t.path, seconds(s[0]), seconds(s[len(s)-1]), met)
	}
	p("\n")
}
