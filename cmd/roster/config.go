package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/flow"
	"github.com/rosterhq/roster/graphql"
	"github.com/rosterhq/roster/worker"
)

// Config is the service's settings, read from the environment.
type Config struct {
	Addr         string  // ROSTER_ADDR, default ":8080"
	DatabaseURL  string  // DATABASE_URL; empty means find or start a local PostgreSQL
	JWKSURL      string  // ROSTER_JWKS_URL
	JWTIssuer    string  // ROSTER_JWT_ISSUER
	JWTAudience  string  // ROSTER_JWT_AUDIENCE
	LogFormat    string  // ROSTER_LOG_FORMAT: json or text; default text on a terminal, else json
	MaxBodyBytes int64   // ROSTER_MAX_BODY_BYTES
	DebugAddr    string  // ROSTER_DEBUG_ADDR: serve net/http/pprof there (keep it on localhost)
	SCIMRate     float64 // ROSTER_SCIM_RATE_LIMIT: SCIM requests a second per token, default 2000

	// StepUpMaxAge is ROSTER_STEP_UP_MAX_AGE, a Go duration (default 10m):
	// how recent a sign-in must be for changes that need a step-up.
	StepUpMaxAge time.Duration

	// SignInRate is ROSTER_SIGNIN_RATE_WINDOW (a Go duration, default 5m),
	// ROSTER_SIGNIN_RATE_ACCOUNT_FAILURES (10), ROSTER_SIGNIN_RATE_ADDRESS_FAILURES
	// (100) and ROSTER_SIGNIN_RATE_ADDRESS_ATTEMPTS (600 a minute, per process).
	SignInRate flow.SignInRate

	// SignUp is ROSTER_SIGNUP: "open" lets anyone create an organisation at
	// POST /api/v1/signup; "closed" (the default) leaves that to `roster
	// tenant create`.
	SignUp bool

	// InvitationTTL is ROSTER_INVITATION_TTL, a Go duration (default 168h,
	// 7 days): how long an invitation link works.
	InvitationTTL time.Duration

	// Env is ROSTER_ENV: "development" (the default) or "production". In
	// production Roster insists on ROSTER_ENCRYPTION_KEY and
	// ROSTER_PUBLIC_URL; in development it makes up what is missing.
	Env           string
	PublicURL     string // ROSTER_PUBLIC_URL: the public base URL, the iss of its tokens; default http://localhost:PORT
	EncryptionKey string // ROSTER_ENCRYPTION_KEY: 32 bytes, base64 or hex

	Worker worker.Config // ROSTER_JOB_WORKERS, ROSTER_EMAIL_MAX_ATTEMPTS, ROSTER_WEBHOOK_RETRY_FOR, ROSTER_WEBHOOK_DISABLE_AFTER
	// GraphQL is ROSTER_GRAPHQL_MAX_DEPTH, _MAX_COMPLEXITY, _MAX_TOKENS and
	// _MAX_ALIASES; its body limit is MaxBodyBytes.
	GraphQL graphql.Limits
	// TrustedProxies is ROSTER_TRUSTED_PROXIES: comma-separated CIDRs of
	// the proxies whose X-Forwarded-For is believed; none by default.
	TrustedProxies []netip.Prefix
	// WebhookAllowLoopback is ROSTER_WEBHOOK_ALLOW_LOOPBACK.
	WebhookAllowLoopback bool
	// The WebAuthn relying party; "" derives it from the public URL.
	WebAuthnRPID    string // ROSTER_WEBAUTHN_RP_ID: the domain passkeys are bound to
	WebAuthnRPName  string // ROSTER_WEBAUTHN_RP_NAME: the name authenticators show
	WebAuthnOrigins string // ROSTER_WEBAUTHN_ORIGINS: comma-separated origins of the ceremonies
}

// Development reports whether Roster runs in development mode.
func (c Config) Development() bool { return c.Env != "production" }

// ConfigFromEnv reads the settings; getenv is os.Getenv outside tests.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:        getenv("ROSTER_ADDR"),
		DatabaseURL: getenv("DATABASE_URL"),
		JWKSURL:     getenv("ROSTER_JWKS_URL"),
		JWTIssuer:   getenv("ROSTER_JWT_ISSUER"),
		JWTAudience: getenv("ROSTER_JWT_AUDIENCE"),
		LogFormat:   getenv("ROSTER_LOG_FORMAT"),
		DebugAddr:   getenv("ROSTER_DEBUG_ADDR"),

		WebAuthnRPID:    getenv("ROSTER_WEBAUTHN_RP_ID"),
		WebAuthnRPName:  getenv("ROSTER_WEBAUTHN_RP_NAME"),
		WebAuthnOrigins: getenv("ROSTER_WEBAUTHN_ORIGINS"),
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.LogFormat != "" && c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("ROSTER_LOG_FORMAT must be json or text, not %q", c.LogFormat)
	}
	if v := getenv("ROSTER_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return c, fmt.Errorf("ROSTER_MAX_BODY_BYTES must be a number of bytes of at least 1024, not %q", v)
		}
		c.MaxBodyBytes = n
	}
	c.Env = getenv("ROSTER_ENV")
	if c.Env == "" {
		c.Env = "development"
	}
	if c.Env != "development" && c.Env != "production" {
		return c, fmt.Errorf("ROSTER_ENV must be development or production, not %q", c.Env)
	}
	c.PublicURL = strings.TrimSuffix(getenv("ROSTER_PUBLIC_URL"), "/")
	c.EncryptionKey = getenv("ROSTER_ENCRYPTION_KEY")
	if !c.Development() && (c.PublicURL == "" || c.EncryptionKey == "") {
		return c, fmt.Errorf("in production, ROSTER_PUBLIC_URL and ROSTER_ENCRYPTION_KEY are required")
	}
	c.SCIMRate = 2000
	if v := getenv("ROSTER_SCIM_RATE_LIMIT"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("ROSTER_SCIM_RATE_LIMIT must be a positive number of requests a second, not %q", v)
		}
		c.SCIMRate = n
	}
	c.StepUpMaxAge = roster.DefaultStepUpMaxAge
	if v := getenv("ROSTER_STEP_UP_MAX_AGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 24*time.Hour {
			return c, fmt.Errorf("ROSTER_STEP_UP_MAX_AGE must be a duration from 1s to 24h, such as 10m, not %q", v)
		}
		c.StepUpMaxAge = d
	}
	var err error
	if c.SignInRate, err = signInRateFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Worker, err = workerConfigFromEnv(getenv); err != nil {
		return c, err
	}
	if c.GraphQL, err = graphQLLimitsFromEnv(getenv); err != nil {
		return c, err
	}
	c.GraphQL.BodyBytes = c.MaxBodyBytes
	if c.WebhookAllowLoopback, err = webhookConfigFromEnv(getenv, &c.Worker); err != nil {
		return c, err
	}
	for _, v := range strings.Split(getenv("ROSTER_TRUSTED_PROXIES"), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return c, fmt.Errorf("ROSTER_TRUSTED_PROXIES must be CIDRs separated by commas (10.0.0.0/8,fd00::/8), not %q", v)
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
	}
	switch v := getenv("ROSTER_SIGNUP"); v {
	case "", "closed":
	case "open":
		c.SignUp = true
	default:
		return c, fmt.Errorf("ROSTER_SIGNUP must be open or closed, not %q", v)
	}
	c.InvitationTTL = flow.DefaultInvitationTTL
	if v := getenv("ROSTER_INVITATION_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour || d > 90*24*time.Hour {
			return c, fmt.Errorf("ROSTER_INVITATION_TTL must be a duration from 1h to 2160h (90 days), such as 168h, not %q", v)
		}
		c.InvitationTTL = d
	}
	// The public URL may come only from the listener; the origins given are
	// checked now all the same.
	publicURL := c.PublicURL
	if publicURL == "" {
		publicURL = "http://localhost"
	}
	if _, err := flow.NewPasskeyConfig(publicURL, c.WebAuthnRPID, c.WebAuthnRPName, c.WebAuthnOrigins); err != nil {
		return c, err
	}
	if c.JWKSURL != "" && (c.JWTIssuer == "" || c.JWTAudience == "") {
		return c, fmt.Errorf("ROSTER_JWKS_URL needs ROSTER_JWT_ISSUER and ROSTER_JWT_AUDIENCE")
	}
	return c, nil
}

// signInRateFromEnv reads the ROSTER_SIGNIN_RATE_ variables; those unset
// keep flow.DefaultSignInRate's values.
func signInRateFromEnv(getenv func(string) string) (flow.SignInRate, error) {
	r := flow.DefaultSignInRate()
	if v := getenv("ROSTER_SIGNIN_RATE_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > 24*time.Hour {
			return r, fmt.Errorf("ROSTER_SIGNIN_RATE_WINDOW must be a duration from 10s to 24h, such as 5m, not %q", v)
		}
		r.Window = d
	}
	for _, n := range []struct {
		name string
		v    *int
	}{
		{"ROSTER_SIGNIN_RATE_ACCOUNT_FAILURES", &r.AccountFailures},
		{"ROSTER_SIGNIN_RATE_ADDRESS_FAILURES", &r.AddressFailures},
		{"ROSTER_SIGNIN_RATE_ADDRESS_ATTEMPTS", &r.AddressAttempts},
	} {
		v := getenv(n.name)
		if v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 1 || i > 1_000_000 {
			return r, fmt.Errorf("%s must be a number from 1 to 1000000, not %q", n.name, v)
		}
		*n.v = i
	}
	return r, nil
}
