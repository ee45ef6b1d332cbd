package passwd

import (
	"regexp"
	"strings"
	"testing"
)

// cheap keeps the tests quick: the costs change nothing in the format.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHash_IsAnArgon2idPHCStringThatVerifies(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(h) {
		t.Errorf("Hash = %q, want $argon2id$v=19$m=65536,t=3,p=2$<22 base64>$<43 base64>", h)
	}
	if ok, err := Verify(h, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("Verify(right password) = %v, %v", ok, err)
	}
	if ok, err := Verify(h, "correct horse battery stapler"); ok || err != nil {
		t.Errorf("Verify(wrong password) = %v, %v", ok, err)
	}
	if !Valid(h) {
		t.Errorf("Valid(%q) = false", h)
	}
}

func TestHash_SaltsEachHash(t *testing.T) {
	a, _ := cheap.Hash("the same password")
	b, _ := cheap.Hash("the same password")
	if a == b {
		t.Errorf("two hashes of one password are equal (%q): the salt is not random", a)
	}
}

// A hash carries its own costs: one made with other parameters (by an
// older quotesd, or another implementation) still verifies.
func TestVerify_UsesTheCostsInTheHash(t *testing.T) {
	h, err := cheap.Hash("an older password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash with cheap costs = %q", h)
	}
	if ok, err := Verify(h, "an older password"); !ok || err != nil {
		t.Errorf("Verify = %v, %v", ok, err)
	}
}

func TestHash_RefusesShortLongAndNonUTF8Passwords(t *testing.T) {
	for _, pw := range []string{"", "short", strings.Repeat("x", MaxLen+1), "bad \xff bytes"} {
		if _, err := cheap.Hash(pw); err == nil {
			t.Errorf("Hash(%.20q) succeeded", pw)
		}
	}
}

func TestVerify_RefusesMalformedHashes(t *testing.T) {
	good, _ := cheap.Hash("a good password")
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":         "",
		"plain":         "a good password",
		"argon2i":       "$argon2i$" + strings.Join(parts[2:], "$"),
		"bcrypt":        "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"old version":   strings.Replace(good, "v=19", "v=16", 1),
		"no costs":      strings.Replace(good, "m=64,t=1,p=1", "", 1),
		"huge memory":   strings.Replace(good, "m=64,", "m=99999999,", 1),
		"zero time":     strings.Replace(good, "t=1,", "t=0,", 1),
		"bad salt":      strings.Replace(good, parts[4], "!!!", 1),
		"short salt":    strings.Replace(good, parts[4], "c2FsdA", 1),
		"trailing part": good + "$x",
		"sign":          strings.Replace(good, "m=64", "m=+64", 1),
	} {
		if ok, err := Verify(h, "a good password"); ok || err != ErrMalformed {
			t.Errorf("%s: Verify(%q) = %v, %v; want false, ErrMalformed", name, h, ok, err)
		}
		if Valid(h) {
			t.Errorf("%s: Valid(%q) = true", name, h)
		}
	}
}
