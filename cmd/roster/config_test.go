package main

import (
	"testing"
	"time"
)

func TestStepUpMaxAgeConfig(t *testing.T) {
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "ROSTER_STEP_UP_MAX_AGE" {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]time.Duration{"": 10 * time.Minute, "5m": 5 * time.Minute, "90s": 90 * time.Second} {
		c, err := ConfigFromEnv(env(v))
		if err != nil || c.StepUpMaxAge != want {
			t.Errorf("ROSTER_STEP_UP_MAX_AGE=%q: %v (%v), want %v", v, c.StepUpMaxAge, err, want)
		}
	}
	for _, v := range []string{"10", "-5m", "0s", "25h", "soon"} {
		if _, err := ConfigFromEnv(env(v)); err == nil {
			t.Errorf("ROSTER_STEP_UP_MAX_AGE=%q was accepted", v)
		}
	}
}

func TestWebAuthnConfig(t *testing.T) {
	env := map[string]string{"ROSTER_WEBAUTHN_RP_ID": "acme.example", "ROSTER_WEBAUTHN_RP_NAME": "Acme",
		"ROSTER_WEBAUTHN_ORIGINS": "https://acme.example,https://login.acme.example"}
	c, err := ConfigFromEnv(func(name string) string { return env[name] })
	if err != nil || c.WebAuthnRPID != "acme.example" || c.WebAuthnRPName != "Acme" || c.WebAuthnOrigins != env["ROSTER_WEBAUTHN_ORIGINS"] {
		t.Fatalf("config %+v, %v", c, err)
	}
	env["ROSTER_WEBAUTHN_ORIGINS"] = "acme.example"
	if _, err := ConfigFromEnv(func(name string) string { return env[name] }); err == nil {
		t.Fatal("an origin without a scheme was accepted")
	}
	// Origins derived from the public URL must fall under the relying party.
	env = map[string]string{"ROSTER_WEBAUTHN_RP_ID": "acme.example", "ROSTER_PUBLIC_URL": "https://id.acme.example"}
	if _, err := ConfigFromEnv(func(name string) string { return env[name] }); err != nil {
		t.Fatalf("a relying party above the public URL's host: %v", err)
	}
	env["ROSTER_PUBLIC_URL"] = "https://id.example.org"
	if _, err := ConfigFromEnv(func(name string) string { return env[name] }); err == nil {
		t.Fatal("a relying party the public URL's origin cannot use was accepted")
	}
}

func TestSignUpConfig(t *testing.T) {
	for value, want := range map[string]bool{"": false, "closed": false, "open": true} {
		cfg, err := ConfigFromEnv(func(k string) string {
			if k == "ROSTER_SIGNUP" {
				return value
			}
			return ""
		})
		if err != nil || cfg.SignUp != want {
			t.Errorf("ROSTER_SIGNUP=%q: %v, %v", value, cfg.SignUp, err)
		}
	}
	if _, err := ConfigFromEnv(func(k string) string {
		if k == "ROSTER_SIGNUP" {
			return "yes"
		}
		return ""
	}); err == nil {
		t.Error("ROSTER_SIGNUP=yes is accepted")
	}
}
