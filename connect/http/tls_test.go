package http

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files and returns their paths and a pool trusting the certificate.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

func TestWebhookTLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	tk, tc, url := startWebhook(t, connect.Config{"http.tls.certificate.location": certFile, "http.tls.key.location": keyFile, "ack.mode": "poll"})
	url = strings.Replace(url, "http://", "https://", 1)
	client := &nethttp.Client{Transport: &nethttp.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	done := make(chan *nethttp.Response, 1)
	go func() {
		resp, err := client.Post(url, "application/json", strings.NewReader(`{"secure":true}`))
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		resp.Body.Close()
		done <- resp
	}()
	recs := connectortest.PollN(t, tk, tc, 1, false, 5*time.Second)
	if recs[0].Value.(map[string]any)["secure"] != true {
		t.Fatalf("record %v", recs[0].Value)
	}
	if resp := <-done; resp == nil || resp.StatusCode != 200 {
		t.Fatalf("answer %v", resp)
	}
	// Plain HTTP is refused.
	if resp, err := nethttp.Post(strings.Replace(url, "https://", "http://", 1), "application/json", strings.NewReader(`{}`)); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP accepted by a TLS webhook")
	}

	tk2 := &sourceTask{}
	err := tk2.Start(context.Background(), connect.Config{"topic": "t", "http.listen": "127.0.0.1:0", "http.tls.certificate.location": certFile},
		connectortest.NewTaskContext(t, "w", 0, nil))
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("certificate without key: %v", err)
	}
}
