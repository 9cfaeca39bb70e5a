package auth

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/rosterhq/roster"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// argon2Params are the costs of one argon2id hash. They are written into
// every encoded hash, so raising them later only marks old hashes as needing
// a rehash at the next successful sign-in.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen uint32
	keyLen  uint32
}

// defaultArgon2Params returns the production costs: 64 MiB, 2 passes, 2 lanes.
// That is above OWASP's argon2id minimum (46 MiB, 1 pass) and takes 65-145 ms
// on a 2-core machine (TestPasswordRealParams logs it); 3 passes went past
// 150 ms there. Each hash in flight holds its 64 MiB.
func defaultArgon2Params() argon2Params {
	return argon2Params{memory: 64 * 1024, time: 2, threads: 2, saltLen: 16, keyLen: 32}
}

// Bounds on the costs read back from a stored hash, so a corrupt or hostile
// row cannot make one verification allocate gigabytes or spin for minutes.
const (
	maxArgon2Memory  = 1 << 20 // KiB: 1 GiB
	maxArgon2Time    = 32
	maxArgon2Threads = 64
	minArgon2Salt    = 8
	maxArgon2Salt    = 64
	minArgon2Key     = 16
	maxArgon2Key     = 64
)

// HashPassword returns the argon2id hash of pw in the PHC string format,
// with a fresh random salt. It fails only when the system's random source
// does.
func HashPassword(pw string) (string, error) {
	return hashPassword(pw, defaultArgon2Params())
}

// VerifyPassword reports whether pw matches the encoded hash and, when it
// does, whether the hash was made with other costs than today's and should
// be replaced with HashPassword(pw). It returns an error, never a panic, when
// encoded is not a well-formed argon2id hash.
func VerifyPassword(encoded, pw string) (ok, needsRehash bool, err error) {
	return verifyPassword(encoded, pw, defaultArgon2Params())
}

// DummyVerify does the work of a real verification and throws the result
// away. Sign-in calls it for unknown users, so that the time of the answer
// does not reveal whether a user exists.
func DummyVerify(pw string) {
	p := defaultArgon2Params()
	dummy := encodeArgon2id(p, make([]byte, p.saltLen), make([]byte, p.keyLen))
	_, _, _ = verifyPassword(dummy, pw, p)
}

func hashPassword(pw string, p argon2Params) (string, error) {
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	key := argon2.IDKey(normalizePassword(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	return encodeArgon2id(p, salt, key), nil
}

func verifyPassword(encoded, pw string, current argon2Params) (ok, needsRehash bool, err error) {
	p, salt, want, err := parseArgon2id(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey(normalizePassword(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != current, nil
}

// normalizePassword puts pw in Unicode NFC (as RFC 8265 and NIST SP 800-63B
// advise), so that "é" typed as one code point on one keyboard and as "e"
// plus a combining accent on another is the same password.
func normalizePassword(pw string) []byte {
	return []byte(norm.NFC.String(pw))
}

func encodeArgon2id(p argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// parseArgon2id reads "$argon2id$v=19$m=M,t=T,p=P$salt$hash" (salt and hash
// in unpadded standard base64) and checks every value against the bounds.
func parseArgon2id(encoded string) (p argon2Params, salt, key []byte, err error) {
	fail := func(reason string) (argon2Params, []byte, []byte, error) {
		return argon2Params{}, nil, nil, fmt.Errorf("malformed argon2id hash: %s", reason)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 fields separated by $")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return fail("want parameters m, t and p")
	}
	m, err1 := phcUint(params[0], "m=", 32)
	t, err2 := phcUint(params[1], "t=", 32)
	par, err3 := phcUint(params[2], "p=", 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return fail("bad parameters")
	}
	switch {
	case par < 1 || par > maxArgon2Threads:
		return fail("parallelism out of range")
	case t < 1 || t > maxArgon2Time:
		return fail("time out of range")
	case m < 8*par || m > maxArgon2Memory:
		return fail("memory out of range")
	}
	salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minArgon2Salt || len(salt) > maxArgon2Salt {
		return fail("bad salt")
	}
	key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minArgon2Key || len(key) > maxArgon2Key {
		return fail("bad hash")
	}
	p = argon2Params{memory: uint32(m), time: uint32(t), threads: uint8(par), saltLen: uint32(len(salt)), keyLen: uint32(len(key))}
	return p, salt, key, nil
}

// phcUint parses one "name=decimal" parameter.
func phcUint(s, prefix string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, fmt.Errorf("want %s<number>", prefix)
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", prefix, err)
	}
	return n, nil
}

// commonPasswordsText is the frequency-ordered list of common passwords of
// @zxcvbn-ts/language-common 4.1.3 (npm, MIT licence, copyright Dan Wheeler,
// Dropbox, Inc. and @zxcvbn-ts), file src/passwords.json, one password a
// line: 49,233 lower-cased passwords seen more than ten times in Mark
// Burnett's public-domain ten-million-password corpus (xato.net), minus those
// zxcvbn already rates as trivially guessable patterns.
//
//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswordSet indexes commonPasswordsText. The keys share the embedded
// string's memory.
func commonPasswordSet() map[string]struct{} {
	set := make(map[string]struct{}, 50_000)
	for line := range strings.Lines(commonPasswordsText) {
		if pw := strings.TrimSpace(line); pw != "" {
			set[pw] = struct{}{}
		}
	}
	return set
}

// PasswordPolicy is what a new password must satisfy. Make one with
// NewPasswordPolicy, then change the fields as needed.
type PasswordPolicy struct {
	MinLength    int    // in characters (runes); 0 means 12
	MaxLength    int    // in characters (runes), to bound hashing cost; 0 means 256
	RejectCommon bool   // refuse passwords from the bundled common-password list
	Field        string // the request field its errors name; "" means password

	common func() map[string]struct{}
}

// NewPasswordPolicy returns the default policy: 12 to 256 characters, not a
// common password. Its common-password set is built on first use and shared
// by copies of the policy.
func NewPasswordPolicy() *PasswordPolicy {
	return &PasswordPolicy{
		MinLength:    roster.DefaultPasswordMinLength,
		MaxLength:    256,
		RejectCommon: true,
		common:       sync.OnceValue(commonPasswordSet),
	}
}

// WithRules returns a copy of p with a tenant's rules: its minimum length
// and whether common passwords are refused.
func (p *PasswordPolicy) WithRules(r roster.PasswordRules) *PasswordPolicy {
	c := *p
	c.MinLength, c.RejectCommon = r.MinLength, r.RejectCommon
	return &c
}

// Check returns an EINVALID error naming the field "password" (or Field)
// when pw breaks the policy: too short or too long, a control character, a
// common password, or equal to or containing one of userInputs (the user's
// email address or its local part, user name...; inputs shorter than 4
// characters are ignored).
// The comparisons ignore case.
func (p *PasswordPolicy) Check(pw string, userInputs ...string) error {
	minLen, maxLen := p.MinLength, p.MaxLength
	if minLen <= 0 {
		minLen = roster.DefaultPasswordMinLength
	}
	if maxLen <= 0 {
		maxLen = 256
	}
	if !utf8.ValidString(pw) || strings.ContainsFunc(pw, unicode.IsControl) {
		return p.invalid("must not contain control characters")
	}
	pw = norm.NFC.String(pw)
	switch n := utf8.RuneCountInString(pw); {
	case n > maxLen:
		return p.invalid(fmt.Sprintf("must be at most %d characters", maxLen))
	case n < minLen:
		return p.invalid(fmt.Sprintf("must be at least %d characters", minLen))
	}
	lower := strings.ToLower(pw)
	if p.RejectCommon && p.isCommon(lower) {
		return p.invalid("is too common: it appears in lists of leaked passwords")
	}
	for _, in := range userInputs {
		for _, s := range userInputVariants(in) {
			if utf8.RuneCountInString(s) >= 4 && strings.Contains(lower, s) {
				return p.invalid("must not contain your email address or user name")
			}
		}
	}
	return nil
}

func (p *PasswordPolicy) isCommon(lower string) bool {
	set := p.common
	if set == nil {
		// A policy not made by NewPasswordPolicy builds the set each time.
		set = commonPasswordSet
	}
	_, ok := set()[lower]
	return ok
}

// userInputVariants returns in lower-cased and, for an email address, its
// local part too.
func userInputVariants(in string) []string {
	in = strings.ToLower(norm.NFC.String(strings.TrimSpace(in)))
	if local, _, ok := strings.Cut(in, "@"); ok {
		return []string{in, local}
	}
	return []string{in}
}

func (p *PasswordPolicy) invalid(msg string) error {
	field := p.Field
	if field == "" {
		field = "password"
	}
	return roster.Invalid(roster.FieldError{Field: field, Message: msg})
}
