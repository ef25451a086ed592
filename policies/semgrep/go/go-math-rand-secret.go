package tokens

import (
	"encoding/hex"
	"fmt"
	"math/rand"
	"time"
)

type Session struct {
	ID        string
	CSRFToken string
	Created   time.Time
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func positives(s *Session) string {
	// ruleid: go-math-rand-secret
	resetToken := fmt.Sprintf("%016x", rand.Int63())
	// ruleid: go-math-rand-secret
	s.CSRFToken = hex.EncodeToString([]byte{byte(rand.Intn(256)), byte(rand.Intn(256))})
	// ruleid: go-math-rand-secret
	otpCode := 100000 + rand.Intn(900000)
	return fmt.Sprint(resetToken, otpCode)
}

func generateAPIKey(n int) string {
	b := make([]byte, n)
	for i := range b {
		// ruleid: go-math-rand-secret
		b[i] = letters[rand.Intn(len(letters))]
	}
	return string(b)
}

func (s *Session) newSessionID() (string, error) {
	buf := make([]byte, 16)
	// ruleid: go-math-rand-secret
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf), nil
}

func negatives(items []string) {
	// ok: go-math-rand-secret
	backoff := time.Duration(rand.Intn(500)) * time.Millisecond
	// ok: go-math-rand-secret
	rand.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	// ok: go-math-rand-secret
	footprint := rand.Float64()
	// ok: go-math-rand-secret
	token := hex.EncodeToString([]byte("fixed"))
	fmt.Println(backoff, footprint, token)
}
