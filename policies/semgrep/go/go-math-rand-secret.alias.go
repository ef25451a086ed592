package tokens

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand"
)

func aliasedPositives() int64 {
	// ruleid: go-math-rand-secret
	sessionToken := mrand.Int63()
	return sessionToken
}

func newPassword() string {
	buf := make([]byte, 16)
	// ok: go-math-rand-secret
	rand.Read(buf)
	// ruleid: go-math-rand-secret
	salt := mrand.Uint64()
	return hex.EncodeToString(buf) + string(rune(salt))
}
