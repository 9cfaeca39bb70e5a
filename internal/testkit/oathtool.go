package testkit

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Oathtool returns the TOTP code of the base32 secret at the time at (the
// zero time: now) as OATH Toolkit's oathtool computes it: an authenticator
// app independent of the code under test. A missing oathtool fails the
// test, never skips it.
func Oathtool(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	bin, err := exec.LookPath("oathtool")
	if err != nil {
		tb.Fatal("oathtool not found: install it (apt-get install -y oathtool, or run ./test); the TOTP tests check codes against it")
	}
	args := []string{"--totp", "-b", secret}
	if !at.IsZero() {
		args = append(args, "--now", at.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		tb.Fatalf("oathtool %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}
