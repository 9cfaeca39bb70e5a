package main

import (
	"fmt"
	"testing"
)

func TestTrustedProxiesConfig(t *testing.T) {
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "ROSTER_TRUSTED_PROXIES" {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]string{"": "[]", "10.0.0.0/8": "[10.0.0.0/8]", " 10.1.2.3/8 , fd00::/8,": "[10.0.0.0/8 fd00::/8]"} {
		c, err := ConfigFromEnv(env(v))
		if got := fmt.Sprint(c.TrustedProxies); err != nil || got != want {
			t.Errorf("ROSTER_TRUSTED_PROXIES=%q: %s (%v), want %s", v, got, err, want)
		}
	}
	for _, v := range []string{"10.0.0.1", "10.0.0.0/33", "proxy.internal"} {
		if _, err := ConfigFromEnv(env(v)); err == nil {
			t.Errorf("ROSTER_TRUSTED_PROXIES=%q was accepted", v)
		}
	}
}
