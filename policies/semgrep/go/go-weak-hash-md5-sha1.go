package hashing

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
)

func positives(password, body []byte) (string, []byte) {
	// ruleid: go-weak-hash-md5-sha1
	sum := md5.Sum(password)
	// ruleid: go-weak-hash-md5-sha1
	h := sha1.New()
	h.Write(body)
	return hex.EncodeToString(sum[:]), h.Sum(nil)
}

func negatives(key, body []byte) ([]byte, [32]byte) {
	// ok: go-weak-hash-md5-sha1
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	// ok: go-weak-hash-md5-sha1
	digest := sha256.Sum256(body)
	// ok: go-weak-hash-md5-sha1
	h := sha256.New()
	return append(mac.Sum(nil), h.Sum(nil)...), digest
}

func alsoNegative(h interface{ Sum([]byte) []byte }) []byte {
	// ok: go-weak-hash-md5-sha1
	return h.Sum(nil)
}
