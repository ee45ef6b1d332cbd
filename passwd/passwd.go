// Package passwd hashes and verifies curators' passwords with argon2id
// (RFC 9106), stored as PHC strings:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>
//
// salt and hash in unpadded standard base64, as the reference
// implementation and libraries such as argon2-cffi and libsodium write
// them, so a hash made elsewhere verifies here. The library stores only
// the string (quoter.Curator.SetPassword); `quotesd admin passwd` makes it,
// and the web admin verifies a sign-in with Verify. It lives outside
// package quoter, which holds the rules about quotes and no cryptography.
package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's costs and sizes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Default is RFC 9106's second recommended option (64 MiB, 3 passes)
// with two lanes: about a tenth of a second on one core of a small
// server, which is what a sign-in may cost.
var Default = Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

// Limits on what Hash accepts and Verify will compute: a stored hash is
// trusted no further than this, so a hash with absurd costs cannot make a
// sign-in take all the memory.
const (
	MinLen    = 8    // bytes of a new password
	MaxLen    = 1024 // bytes of any password
	maxMemory = 1 << 20
	maxTime   = 64
	maxKeyLen = 1024
)

// ErrMalformed is returned by Verify for a string that is not an argon2id
// PHC string within the limits.
var ErrMalformed = errors.New("passwd: not an argon2id PHC string")

// Hash returns the PHC string of password with Default's costs and a
// fresh random salt. Errors: a password shorter than MinLen or longer
// than MaxLen bytes, or not UTF-8.
func Hash(password string) (string, error) { return Default.Hash(password) }

// Hash is Hash with p's costs.
func (p Params) Hash(password string) (string, error) {
	switch {
	case len(password) < MinLen:
		return "", fmt.Errorf("the password is shorter than %d bytes", MinLen)
	case len(password) > MaxLen:
		return "", fmt.Errorf("the password is longer than %d bytes", MaxLen)
	case !utf8.ValidString(password):
		return "", errors.New("the password is not UTF-8 text")
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (crypto/rand)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches the PHC string hash, comparing
// in constant time. Errors: ErrMalformed.
func Verify(hash, password string) (bool, error) {
	p, salt, key, err := decode(hash)
	if err != nil {
		return false, err
	}
	if len(password) > MaxLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// Valid reports whether hash is an argon2id PHC string Verify accepts.
func Valid(hash string) bool {
	_, _, _, err := decode(hash)
	return err == nil
}

// decode parses $argon2id$v=19$m=M,t=T,p=P$salt$key.
func decode(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version || parts[2] != fmt.Sprintf("v=%d", v) {
		return p, nil, nil, ErrMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) {
		return p, nil, nil, ErrMalformed
	}
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return p, nil, nil, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 4 || len(key) > maxKeyLen {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
