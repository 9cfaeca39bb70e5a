package main

import (
	"fmt"
	"time"

	"github.com/rosterhq/roster/worker"
)

// webhookConfigFromEnv reads ROSTER_WEBHOOK_ALLOW_LOOPBACK (true lets
// webhooks reach 127.0.0.1 and ::1, for tests and local development; the
// refusal of private, link-local and metadata addresses stays) and the
// retry schedule: ROSTER_WEBHOOK_RETRY_FOR (how long a delivery is
// retried, default 24h) and ROSTER_WEBHOOK_DISABLE_AFTER (how long an
// endpoint may fail before it is disabled, default 24h), into c.
func webhookConfigFromEnv(getenv func(string) string, c *worker.Config) (allowLoopback bool, err error) {
	switch v := getenv("ROSTER_WEBHOOK_ALLOW_LOOPBACK"); v {
	case "", "false":
	case "true":
		allowLoopback = true
	default:
		return false, fmt.Errorf("ROSTER_WEBHOOK_ALLOW_LOOPBACK must be true or false, not %q", v)
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"ROSTER_WEBHOOK_RETRY_FOR", &c.WebhookRetryFor},
		{"ROSTER_WEBHOOK_DISABLE_AFTER", &c.WebhookDisableAfter},
	} {
		v := getenv(d.name)
		if v == "" {
			continue
		}
		n, err := time.ParseDuration(v)
		if err != nil || n < time.Second || n > 30*24*time.Hour {
			return false, fmt.Errorf("%s must be a duration from 1s to 720h, such as 24h, not %q", d.name, v)
		}
		*d.dst = n
	}
	return allowLoopback, nil
}
