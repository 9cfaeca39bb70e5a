package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newTestBox(t *testing.T) (*SecretBox, []byte) {
	t.Helper()
	key := make([]byte, EncryptionKeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box, key
}

func TestSecretBoxRoundTrip(t *testing.T) {
	box, _ := newTestBox(t)
	ad := []byte("totp:tenant-1:user-1")
	for _, plain := range [][]byte{nil, []byte("x"), []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), bytes.Repeat([]byte{0}, 4096)} {
		sealed, err := box.Seal(plain, ad)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 + 12 + len(plain) + 16; len(sealed) != want {
			t.Errorf("sealed %d bytes into %d, want %d", len(plain), len(sealed), want)
		}
		if sealed[0] != 1 {
			t.Errorf("key version = %d, want 1", sealed[0])
		}
		got, err := box.Open(sealed, ad)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, want %q", got, plain)
		}
	}
}

func TestSecretBoxNonceIsFresh(t *testing.T) {
	box, _ := newTestBox(t)
	a, err := box.Seal([]byte("seed"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := box.Seal([]byte("seed"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[1:13], b[1:13]) || bytes.Equal(a, b) {
		t.Error("two seals of one plaintext share a nonce")
	}
}

func TestSecretBoxRefuses(t *testing.T) {
	box, _ := newTestBox(t)
	other, _ := newTestBox(t)
	ad := []byte("totp:tenant-1:user-1")
	sealed, err := box.Seal([]byte("JBSWY3DPEHPK3PXP"), ad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		box    *SecretBox
		sealed []byte
		ad     []byte
	}{
		{"other user", box, sealed, []byte("totp:tenant-1:user-2")},
		{"other tenant", box, sealed, []byte("totp:tenant-2:user-1")},
		{"no additional data", box, sealed, nil},
		{"other key", other, sealed, ad},
		{"key version changed", box, flip(0), ad},
		{"nonce changed", box, flip(1), ad},
		{"ciphertext changed", box, flip(14), ad},
		{"tag changed", box, flip(len(sealed) - 1), ad},
		{"truncated", box, sealed[:len(sealed)-1], ad},
		{"too short", box, sealed[:28], ad},
		{"empty", box, nil, ad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.box.Open(tt.sealed, tt.ad); err == nil {
				t.Errorf("Open = %q, want an error", got)
			}
		})
	}
}

func TestNewSecretBoxKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := NewSecretBox(make([]byte, n)); err == nil {
			t.Errorf("NewSecretBox with a %d-byte key: no error", n)
		}
	}
}

func TestParseEncryptionKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(0xf0 + i) // high bytes give '+' '/' in std base64, '-' '_' in url
	}
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"hex", hex.EncodeToString(key), true},
		{"hex upper case", strings.ToUpper(hex.EncodeToString(key)), true},
		{"std base64", base64.StdEncoding.EncodeToString(key), true},
		{"std base64 unpadded", base64.RawStdEncoding.EncodeToString(key), true},
		{"url base64", base64.URLEncoding.EncodeToString(key), true},
		{"url base64 unpadded", base64.RawURLEncoding.EncodeToString(key), true},
		{"surrounding whitespace", "  " + base64.StdEncoding.EncodeToString(key) + "\n", true},
		{"empty", "", false},
		{"blank", "   ", false},
		{"16 bytes hex", hex.EncodeToString(key[:16]), false},
		{"31 bytes base64", base64.StdEncoding.EncodeToString(key[:31]), false},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 1)), false},
		{"48 bytes base64", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 48)), false},
		{"not an encoding", "this is not a key at all!!", false},
		{"hex with a bad digit", "g" + hex.EncodeToString(key)[1:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEncryptionKey(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseEncryptionKey(%q) = %x, want an error", tt.in, got)
				}
				if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, key) {
				t.Errorf("ParseEncryptionKey(%q) = %x, want %x", tt.in, got, key)
			}
		})
	}
}

func TestDevEncryptionKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev", "encryption.key")
	key, err := DevEncryptionKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != EncryptionKeySize {
		t.Fatalf("key is %d bytes", len(key))
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	again, err := DevEncryptionKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, again) {
		t.Error("the second call made a new key instead of reading the file")
	}
	if _, err := NewSecretBox(key); err != nil {
		t.Error(err)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".roster-key-*")); len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}

	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DevEncryptionKey(path); err == nil {
		t.Error("a corrupt key file was accepted (or silently replaced)")
	}
}

func TestDevEncryptionKeyConcurrentStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "encryption.key")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = DevEncryptionKey(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("processes starting together got different keys")
		}
	}
}

func TestDeriveKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, EncryptionKeySize)
	a, b := DeriveKey(key, "roster recovery codes"), DeriveKey(key, "roster recovery codes")
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("DeriveKey is not a stable 32-byte key: %x %x", a, b)
	}
	if bytes.Equal(a, DeriveKey(key, "something else")) || bytes.Equal(a, DeriveKey(bytes.Repeat([]byte{8}, EncryptionKeySize), "roster recovery codes")) {
		t.Fatal("keys for other purposes or from other keys are the same")
	}
	if bytes.Equal(a, key) {
		t.Fatal("the derived key is the encryption key")
	}
}
