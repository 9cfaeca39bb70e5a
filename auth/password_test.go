package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// cheapArgon2 keeps the tests fast; only TestPasswordRealParams pays for the
// real costs.
func cheapArgon2() argon2Params {
	return argon2Params{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}
}

func TestPasswordRealParams(t *testing.T) {
	const pw = "correct horse battery staple"
	start := time.Now()
	encoded, err := HashPassword(pw)
	hashTime := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("HashPassword = %q, want the default parameters", encoded)
	}

	// The fastest of three runs is each one's cost; the others measure how
	// busy the machine was.
	var verifyTime, dummyTime time.Duration
	for i := range 3 {
		start = time.Now()
		ok, rehash, err := VerifyPassword(encoded, pw)
		if d := time.Since(start); i == 0 || d < verifyTime {
			verifyTime = d
		}
		if err != nil || !ok || rehash {
			t.Fatalf("VerifyPassword = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		start = time.Now()
		DummyVerify(pw)
		if d := time.Since(start); i == 0 || d < dummyTime {
			dummyTime = d
		}
	}

	t.Logf("argon2id m=64MiB t=2 p=2: hash %v, verify %v, dummy verify %v", hashTime, verifyTime, dummyTime)
	// DummyVerify must do the real work; a few milliseconds would mean it
	// skipped argon2 and gave unknown users away.
	if dummyTime < verifyTime/4 {
		t.Errorf("DummyVerify took %v, VerifyPassword %v: want them alike", dummyTime, verifyTime)
	}
}

func TestPasswordHashVerify(t *testing.T) {
	p := cheapArgon2()
	encoded, err := hashPassword("s3cret pass phrase", p)
	if err != nil {
		t.Fatal(err)
	}
	other, err := hashPassword("s3cret pass phrase", p)
	if err != nil {
		t.Fatal(err)
	}
	if encoded == other {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	stronger := p
	stronger.time = 2

	tests := []struct {
		name       string
		pw         string
		current    argon2Params
		wantOK     bool
		wantRehash bool
	}{
		{"right password", "s3cret pass phrase", p, true, false},
		{"wrong password", "s3cret pass phrasE", p, false, false},
		{"empty password", "", p, false, false},
		{"costs raised since", "s3cret pass phrase", stronger, true, true},
		{"wrong password, costs raised", "nope", stronger, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := verifyPassword(encoded, tt.pw, tt.current)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK || rehash != tt.wantRehash {
				t.Errorf("verifyPassword = %v, %v; want %v, %v", ok, rehash, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

func TestPasswordUnicodeNormalized(t *testing.T) {
	p := cheapArgon2()
	encoded, err := hashPassword("caf\u00e9 au lait!", p) // é as one code point
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := verifyPassword(encoded, "cafe\u0301 au lait!", p) // e + combining acute
	if err != nil || !ok {
		t.Errorf("verifyPassword of the decomposed form = %v, %v; want true, nil", ok, err)
	}
}

// FuzzParseArgon2id checks that no stored value makes parsing panic or
// accept costs beyond the bounds.
func FuzzParseArgon2id(f *testing.F) {
	for _, s := range malformedHashes() {
		f.Add(s)
	}
	f.Add("$argon2id$v=19$m=65536,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parseArgon2id(s)
		if err != nil {
			return
		}
		if p.memory > maxArgon2Memory || p.time > maxArgon2Time || p.threads < 1 || p.time < 1 ||
			len(salt) < minArgon2Salt || len(key) < minArgon2Key {
			t.Errorf("parseArgon2id(%q) accepted %+v", s, p)
		}
	})
}

func malformedHashes() []string {
	salt := "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	key := "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g" // 32 bytes
	phc := func(alg, v, params, salt, key string) string {
		return strings.Join([]string{"", alg, v, params, salt, key}, "$")
	}
	return []string{
		"",
		"$",
		"$$$$$",
		"$argon2id$",
		"argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt,
		phc("argon2id", "v=19", "m=64,t=1,p=1", salt, key) + "$",
		phc("argon2i", "v=19", "m=64,t=1,p=1", salt, key),
		phc("bcrypt", "v=19", "m=64,t=1,p=1", salt, key),
		phc("argon2id", "v=16", "m=64,t=1,p=1", salt, key),
		phc("argon2id", "v=", "m=64,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=64,t=1", salt, key),
		phc("argon2id", "v=19", "m=64,t=1,p=1,k=2", salt, key),
		phc("argon2id", "v=19", "t=1,m=64,p=1", salt, key),
		phc("argon2id", "v=19", "m=64,t=0,p=1", salt, key),
		phc("argon2id", "v=19", "m=64,t=1,p=0", salt, key),
		phc("argon2id", "v=19", "m=0,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=7,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=-64,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=64,t=1,p=256", salt, key),
		phc("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=64,t=1000000,p=1", salt, key),
		phc("argon2id", "v=19", "m=6x4,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=64,t=1,p=1", "", key),
		phc("argon2id", "v=19", "m=64,t=1,p=1", "c2FsdA", key), // 4-byte salt
		phc("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key),
		phc("argon2id", "v=19", "m=64,t=1,p=1", "not base64!", key),
		phc("argon2id", "v=19", "m=64,t=1,p=1", salt, ""),
		phc("argon2id", "v=19", "m=64,t=1,p=1", salt, "aGFzaA"), // 4-byte hash
		phc("argon2id", "v=19", "m=64,t=1,p=1", salt, strings.Repeat("A", 200)),
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	for i, encoded := range malformedHashes() {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ok, rehash, err := verifyPassword(encoded, "password", cheapArgon2())
			if err == nil || ok || rehash {
				t.Errorf("verifyPassword(%q) = %v, %v, %v; want an error", encoded, ok, rehash, err)
			}
		})
	}
}

func TestPasswordPolicy(t *testing.T) {
	def := NewPasswordPolicy()
	short := *def
	short.MinLength = 4
	noCommon := *def
	noCommon.RejectCommon = false
	zero := &PasswordPolicy{RejectCommon: true}

	tests := []struct {
		name   string
		policy *PasswordPolicy
		pw     string
		inputs []string
		want   string // part of the message; "" means accepted
	}{
		{"long random", def, "vq7-Hx2!tLp9#wRz", nil, ""},
		{"passphrase", def, "correct horse battery staple", nil, ""},
		{"11 characters", def, "abcdefghijk", nil, "at least 12 characters"},
		{"12 characters", def, "xk4!pq9$mz2#", nil, ""},
		{"runes, not bytes: 11 accented", def, strings.Repeat("é", 11), nil, "at least 12 characters"},
		{"runes, not bytes: 12 accented", def, strings.Repeat("é", 12), nil, ""},
		{"combining marks count once", def, strings.Repeat("e\u0301", 11), nil, "at least 12 characters"},
		{"256 characters", def, strings.Repeat("ab", 128), nil, ""},
		{"257 characters", def, strings.Repeat("ab", 128) + "c", nil, "at most 256 characters"},
		{"257 runes, 514 bytes", def, strings.Repeat("é", 257), nil, "at most 256 characters"},
		{"NUL", def, "correct horse\x00battery", nil, "control characters"},
		{"newline", def, "correct horse\nbattery", nil, "control characters"},
		{"tab", def, "correct\thorse battery", nil, "control characters"},
		{"DEL", def, "correct horse battery\x7f", nil, "control characters"},
		{"C1 control", def, "correct horse battery\u0085", nil, "control characters"},
		{"invalid UTF-8", def, "correct horse \xff battery", nil, "control characters"},
		{"common", def, "qwertyuiop123", nil, "too common"},
		{"common, other case", def, "QwErTyUiOp123", nil, "too common"},
		{"common, short list entry with short policy", &short, "password", nil, "too common"},
		{"common allowed when not rejected", &noCommon, "qwertyuiop123", nil, ""},
		{"zero policy uses defaults", zero, "short", nil, "at least 12 characters"},
		{"zero policy rejects common", zero, "1q2w3e4r5t6y", nil, "too common"},
		{"equals user name", def, "alice.wonder", []string{"alice.wonder"}, "email address or user name"},
		{"contains email", def, "xx-alice@example.com-xx", []string{"alice@example.com"}, "email address or user name"},
		{"contains email local part", def, "Alice2024!secure", []string{"alice@example.com"}, "email address or user name"},
		{"contains user name, other case", def, "myBOBBYpassword!", []string{"bobby"}, "email address or user name"},
		{"short input ignored", def, "bob is my best friend", []string{"bob"}, ""},
		{"short local part ignored", def, "bob is my best friend", []string{"bob@example.com"}, ""},
		{"empty input ignored", def, "correct horse battery staple", []string{"", "  "}, ""},
		{"unrelated input", def, "correct horse battery staple", []string{"alice@example.com", "alice"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.pw, tt.inputs...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if roster.ErrorCode(err) != roster.EINVALID {
				t.Fatalf("Check = %v, want EINVALID", err)
			}
			fields := roster.ErrorFields(err)
			if len(fields) != 1 || fields[0].Field != "password" || !strings.Contains(fields[0].Message, tt.want) {
				t.Errorf("Check fields = %+v, want password: ...%s...", fields, tt.want)
			}
		})
	}
}

func TestCommonPasswordSet(t *testing.T) {
	set := commonPasswordSet()
	if len(set) < 10_000 {
		t.Fatalf("common password set has %d entries, want the bundled list", len(set))
	}
	for _, pw := range []string{"123456", "password", "qwerty", "iloveyou", "trustno1"} {
		if _, ok := set[pw]; !ok {
			t.Errorf("%q is not in the common password set", pw)
		}
	}
	for pw := range set {
		if pw != strings.ToLower(pw) {
			t.Fatalf("%q is not lower case: case-insensitive lookups would miss it", pw)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	encoded, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := VerifyPassword(encoded, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
