package main

import (
	"testing"
	"time"
)

func TestWebhookConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(name string) string { return vars[name] }
	}
	c, err := ConfigFromEnv(env(nil))
	if err != nil || c.WebhookAllowLoopback {
		t.Fatalf("by default loopback is refused: %+v %v", c, err)
	}
	c, err = ConfigFromEnv(env(map[string]string{"ROSTER_WEBHOOK_ALLOW_LOOPBACK": "true",
		"ROSTER_WEBHOOK_RETRY_FOR": "2h", "ROSTER_WEBHOOK_DISABLE_AFTER": "30m"}))
	if err != nil || !c.WebhookAllowLoopback || c.Worker.WebhookRetryFor != 2*time.Hour || c.Worker.WebhookDisableAfter != 30*time.Minute {
		t.Fatalf("webhook config: %+v %v", c, err)
	}
	for _, vars := range []map[string]string{
		{"ROSTER_WEBHOOK_ALLOW_LOOPBACK": "yes"}, {"ROSTER_WEBHOOK_RETRY_FOR": "1ms"}, {"ROSTER_WEBHOOK_DISABLE_AFTER": "forever"},
	} {
		if _, err := ConfigFromEnv(env(vars)); err == nil {
			t.Errorf("%v was accepted", vars)
		}
	}
}
