package client

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
)

func positives() *http.Client {
	transport := &http.Transport{
		// ruleid: go-tls-insecure-skip-verify
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	// ruleid: go-tls-insecure-skip-verify
	cfg.InsecureSkipVerify = true
	// ruleid: go-tls-insecure-skip-verify
	http.DefaultTransport.(*http.Transport).TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true,
	}
	_ = cfg
	return &http.Client{Transport: transport}
}

func negatives(pool *x509.CertPool, skip bool) *tls.Config {
	// ok: go-tls-insecure-skip-verify
	strict := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	// ok: go-tls-insecure-skip-verify
	strict.InsecureSkipVerify = false
	// ok: go-tls-insecure-skip-verify
	return &tls.Config{InsecureSkipVerify: false, RootCAs: pool}
}
