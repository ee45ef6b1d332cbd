package web

import (
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// checkPassword reports whether password matches hash, an argon2id PHC
// string ($argon2id$v=19$m=...,t=...,p=...$salt$key). An empty or
// malformed hash matches nothing; the work is done anyway for an empty
// hash (an unknown curator), so that timing does not tell names apart.
func checkPassword(hash, password string) bool {
	if hash == "" {
		hash = dummyHash
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
		return false
	}
	var m, t, p uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return false
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		}
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || m == 0 || t == 0 || p == 0 || p > 255 || m > 1<<22 || t > 64 || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1 && parts[4] != dummySalt
}

const (
	dummySalt = "cXVvdGVzZC1kdW1teQ"
	dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$" + dummySalt + "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)
