package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/rosterhq/roster"
)

// TOTP settings: the defaults of RFC 6238 and the only ones every
// authenticator app supports.
const (
	totpPeriod     = 30 // seconds
	totpDigits     = otp.DigitsSix
	totpSecretSize = 20 // bytes, the HMAC-SHA1 block RFC 4226 recommends
	totpSkew       = 1  // steps either side of now, for clock drift and slow typing
	totpQRSize     = 200
)

// NewTOTP makes a TOTP secret for account (the user's email address) at
// issuer (the name the authenticator app shows). It returns the secret in
// base32, to seal and store, and the otpauth:// URI and a 200×200 PNG QR code
// of it, to show once during enrolment. Neither issuer nor account may be
// empty or contain a colon (EINVALID).
func NewTOTP(issuer, account string) (secret, uri string, qrPNG []byte, err error) {
	var fields []roster.FieldError
	for _, f := range []struct{ name, value string }{{"issuer", issuer}, {"account", account}} {
		if strings.TrimSpace(f.value) == "" || strings.Contains(f.value, ":") {
			fields = append(fields, roster.FieldError{Field: f.name, Message: "must not be empty or contain a colon"})
		}
	}
	if len(fields) > 0 {
		return "", "", nil, roster.Invalid(fields...)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		SecretSize:  totpSecretSize,
		Digits:      totpDigits,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", nil, fmt.Errorf("generate totp key: %w", err)
	}
	img, err := key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return "", "", nil, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "", nil, fmt.Errorf("totp qr code: %w", err)
	}
	return key.Secret(), key.URL(), buf.Bytes(), nil
}

// VerifyTOTP reports whether code is the TOTP code of secret at now, or one
// step before or after, and returns the step it matched. A step at or before
// lastStep is refused, so that each code works once: the caller stores the
// returned step as the next lastStep, in the same transaction as the sign-in.
// Anything but exactly six ASCII digits, and a secret that is not base32, is
// refused.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	if !isDigits(code, totpDigits.Length()) || !validTOTPSecret(secret) || now.Unix() < 0 {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	opts := hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	// Every candidate step is computed and compared, matched or not, so the
	// time taken does not depend on which one matched.
	for s := current - totpSkew; s <= current+totpSkew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > lastStep {
			step, ok = s, true // the latest match wins, so no step before it stays usable
		}
	}
	return step, ok
}

// validTOTPSecret reports whether secret is base32 of at least 80 bits, the
// least any authenticator app issues. The library would take an empty secret
// as an empty HMAC key, whose codes anyone can compute.
func validTOTPSecret(secret string) bool {
	s := strings.TrimRight(strings.ToUpper(strings.TrimSpace(secret)), "=")
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	return err == nil && len(b) >= 10
}

// isDigits reports whether s is exactly n ASCII digits.
func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
