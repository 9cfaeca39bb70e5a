package main

import (
	"testing"
	"time"
)

func TestInvitationTTLConfig(t *testing.T) {
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "ROSTER_INVITATION_TTL" {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]time.Duration{"": 7 * 24 * time.Hour, "48h": 48 * time.Hour, "1h": time.Hour} {
		c, err := ConfigFromEnv(env(v))
		if err != nil || c.InvitationTTL != want {
			t.Errorf("ROSTER_INVITATION_TTL=%q: %v (%v), want %v", v, c.InvitationTTL, err, want)
		}
	}
	for _, v := range []string{"7", "-1h", "59m", "2161h", "a week"} {
		if _, err := ConfigFromEnv(env(v)); err == nil {
			t.Errorf("ROSTER_INVITATION_TTL=%q was accepted", v)
		}
	}
}
