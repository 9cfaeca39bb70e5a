package main

import (
	"testing"
	"time"

	"github.com/rosterhq/roster/flow"
)

func TestSignInRateConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(name string) string { return vars[name] }
	}
	c, err := ConfigFromEnv(env(nil))
	if err != nil || c.SignInRate != flow.DefaultSignInRate() {
		t.Fatalf("defaults: %+v %v", c.SignInRate, err)
	}
	c, err = ConfigFromEnv(env(map[string]string{
		"ROSTER_SIGNIN_RATE_WINDOW":           "15m",
		"ROSTER_SIGNIN_RATE_ACCOUNT_FAILURES": "5",
		"ROSTER_SIGNIN_RATE_ADDRESS_FAILURES": "250",
		"ROSTER_SIGNIN_RATE_ADDRESS_ATTEMPTS": "3000",
	}))
	want := flow.SignInRate{Window: 15 * time.Minute, AccountFailures: 5, AddressFailures: 250, AddressAttempts: 3000}
	if err != nil || c.SignInRate != want {
		t.Fatalf("set: %+v %v, want %+v", c.SignInRate, err, want)
	}
	for _, vars := range []map[string]string{
		{"ROSTER_SIGNIN_RATE_WINDOW": "5"}, {"ROSTER_SIGNIN_RATE_WINDOW": "1s"}, {"ROSTER_SIGNIN_RATE_WINDOW": "25h"},
		{"ROSTER_SIGNIN_RATE_ACCOUNT_FAILURES": "0"}, {"ROSTER_SIGNIN_RATE_ADDRESS_FAILURES": "many"},
		{"ROSTER_SIGNIN_RATE_ADDRESS_ATTEMPTS": "-3"},
	} {
		if _, err := ConfigFromEnv(env(vars)); err == nil {
			t.Errorf("%v was accepted", vars)
		}
	}
}
