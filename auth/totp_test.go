package auth

import (
	"bytes"
	"encoding/base32"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/testkit"
)

func TestTOTPRFC6238Vectors(t *testing.T) {
	// RFC 6238 appendix B, SHA-1: the secret "12345678901234567890" and the
	// last six digits of the eight-digit codes it lists.
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	tests := []struct {
		unix int64
		code string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, tt := range tests {
		at := time.Unix(tt.unix, 0)
		if got := testkit.Oathtool(t, secret, at); got != tt.code {
			t.Errorf("oathtool at %d = %s, want %s", tt.unix, got, tt.code)
		}
		step, ok := VerifyTOTP(secret, tt.code, at, 0)
		if !ok || step != tt.unix/30 {
			t.Errorf("VerifyTOTP(%s at %d) = %d, %v; want %d, true", tt.code, tt.unix, step, ok, tt.unix/30)
		}
	}
}

func TestTOTPAgainstOathtool(t *testing.T) {
	secret, _, _, err := NewTOTP("Roster", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	times := []time.Time{
		time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC),
		time.Date(2026, 3, 14, 15, 9, 30, 0, time.UTC),                     // first second of a step
		time.Date(2026, 3, 14, 15, 9, 59, 999_000_000, time.UTC),           // last instant of a step
		time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC),                      // past 32-bit time
		time.Date(2026, 12, 31, 23, 59, 45, 0, time.FixedZone("", 5*3600)), // not UTC
	}
	tests := []struct {
		name   string
		offset int64 // steps between the code's time and the verifier's clock
		ok     bool
	}{
		{"same step", 0, true},
		{"phone one step behind", -1, true},
		{"phone one step ahead", 1, true},
		{"phone two steps behind", -2, false},
		{"phone two steps ahead", 2, false},
	}
	for _, now := range times {
		for _, tt := range tests {
			t.Run(now.Format(time.RFC3339)+"/"+tt.name, func(t *testing.T) {
				codeTime := now.Add(time.Duration(tt.offset) * 30 * time.Second)
				code := testkit.Oathtool(t, secret, codeTime)
				step, ok := VerifyTOTP(secret, code, now, 0)
				if ok != tt.ok {
					t.Fatalf("VerifyTOTP(%s) ok = %v, want %v", code, ok, tt.ok)
				}
				if ok && step != codeTime.Unix()/30 {
					t.Errorf("step = %d, want %d", step, codeTime.Unix()/30)
				}
			})
		}
	}
}

func TestTOTPOneUse(t *testing.T) {
	secret, _, _, err := NewTOTP("Roster", "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	s := now.Unix() / 30
	prev := testkit.Oathtool(t, secret, now.Add(-30*time.Second))
	cur := testkit.Oathtool(t, secret, now)
	next := testkit.Oathtool(t, secret, now.Add(30*time.Second))

	tests := []struct {
		name     string
		code     string
		lastStep int64
		wantStep int64
		ok       bool
	}{
		{"first use", cur, s - 1, s, true},
		{"replayed", cur, s, 0, false},
		{"replayed later in the window", cur, s + 1, 0, false},
		{"older code after a newer one", prev, s, 0, false},
		{"previous step, not yet used", prev, s - 2, s - 1, true},
		{"next step after the current one", next, s, s + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := VerifyTOTP(secret, tt.code, now, tt.lastStep)
			if ok != tt.ok || step != tt.wantStep {
				t.Errorf("VerifyTOTP = %d, %v; want %d, %v", step, ok, tt.wantStep, tt.ok)
			}
		})
	}
}

func TestTOTPRefusesMalformed(t *testing.T) {
	secret, _, _, err := NewTOTP("Roster", "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	code := testkit.Oathtool(t, secret, now)
	if _, ok := VerifyTOTP(secret, code, now, 0); !ok {
		t.Fatalf("the right code %s was refused", code)
	}
	tests := []struct {
		name, secret, code string
	}{
		{"empty", secret, ""},
		{"five digits", secret, code[:5]},
		{"seven digits", secret, code + "0"},
		{"leading space", secret, " " + code},
		{"trailing newline", secret, code + "\n"},
		{"space inside", secret, code[:3] + " " + code[3:]},
		{"sign", secret, "+" + code[1:]},
		{"letter", secret, code[:5] + "a"},
		{"fullwidth digits", secret, strings.Map(func(r rune) rune { return r - '0' + '０' }, code)},
		{"empty secret", "", code},
		{"secret not base32", "not-base32!", code},
		{"secret under 80 bits", secret[:8], code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if step, ok := VerifyTOTP(tt.secret, tt.code, now, 0); ok {
				t.Errorf("VerifyTOTP(%q, %q) = %d, true; want refused", tt.secret, tt.code, step)
			}
		})
	}
	if _, ok := VerifyTOTP(secret, code, time.Unix(-1, 0), 0); ok {
		t.Error("a time before 1970 was accepted")
	}
}

func TestNewTOTP(t *testing.T) {
	secret, uri, qr, err := NewTOTP("Acme Corp", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(raw) != 20 {
		t.Errorf("secret %q: %d bytes, %v; want 20 bytes of base32", secret, len(raw), err)
	}

	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Acme Corp:alice@example.com" {
		t.Errorf("uri %q: want otpauth://totp/Acme%%20Corp:alice@example.com", uri)
	}
	for name, want := range map[string]string{
		"secret": secret, "issuer": "Acme Corp", "algorithm": "SHA1", "digits": "6", "period": "30",
	} {
		if got := q.Get(name); got != want {
			t.Errorf("uri %s = %q, want %q", name, got, want)
		}
	}

	img, err := png.Decode(bytes.NewReader(qr))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 200 {
		t.Errorf("QR code is %dx%d, want 200x200", b.Dx(), b.Dy())
	}

	other, _, _, err := NewTOTP("Acme Corp", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if other == secret {
		t.Error("two enrolments got the same secret")
	}
}

func TestNewTOTPInvalid(t *testing.T) {
	tests := []struct {
		name, issuer, account string
		fields                []string
	}{
		{"empty issuer", "", "alice@example.com", []string{"issuer"}},
		{"blank account", "Roster", "  ", []string{"account"}},
		{"colon in issuer", "Acme: EU", "alice@example.com", []string{"issuer"}},
		{"colon in account", "Roster", "a:b@example.com", []string{"account"}},
		{"both", "", "", []string{"issuer", "account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := NewTOTP(tt.issuer, tt.account)
			if roster.ErrorCode(err) != roster.EINVALID {
				t.Fatalf("NewTOTP = %v, want EINVALID", err)
			}
			var got []string
			for _, f := range roster.ErrorFields(err) {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
		})
	}
}
