package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/testkit"
)

// selfSigned returns a CA-signed server certificate for host, and the CA
// as PEM.
func selfSigned(t *testing.T, host string) (tls.Certificate, []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// tlsBroker starts a broker behind a TLS-terminating proxy whose address
// the broker advertises, so every client connection goes through TLS.
func tlsBroker(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	b := testkit.StartBroker(t, func(c *broker.Config) { c.AdvertisedAddr = ln.Addr().String() })
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", b.Addr())
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func TestReplicateOverTLS(t *testing.T) {
	cert, caPEM := selfSigned(t, "127.0.0.1")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := tlsBroker(t, cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	producer := client(t, addr, kgo.DialTLSConfig(&tls.Config{RootCAs: pool}))
	createTopic(t, producer, "secure", 1)
	produce(t, producer, &kgo.Record{Topic: "secure", Value: []byte("over tls")})

	for _, c := range []struct {
		name string
		cfg  connect.Config
	}{
		{"verified", connect.Config{"src.kafka.ssl.ca.location": caFile}},
		{"chain only", connect.Config{"src.kafka.ssl.ca.location": caFile, "src.kafka.ssl.endpoint.identification.algorithm": ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := connect.Config{"src.kafka.bootstrap.servers": addr, "topic.whitelist": "secure",
				"src.kafka.security.protocol": "SSL", "offset.topic.commit": "false"}
			for k, v := range c.cfg {
				cfg[k] = v
			}
			tk := startReplicator(t, cfg, nil)
			recs := connectortest.PollN(t, tk, &connectortest.TaskContext{Offsets: connectortest.NewOffsets()}, 1, false, 10*time.Second)
			if string(recs[0].Value.([]byte)) != "over tls" {
				t.Fatalf("record %v", recs[0].Value)
			}
		})
	}

	// Without the CA the broker is not trusted: nothing is copied.
	tk := startReplicator(t, connect.Config{"src.kafka.bootstrap.servers": addr, "topic.whitelist": "secure",
		"src.kafka.security.protocol": "SSL"}, nil)
	if recs := connectortest.PollQuiet(t, tk, 300*time.Millisecond); len(recs) != 0 {
		t.Fatalf("copied %d records from an untrusted broker", len(recs))
	}
}

func TestSecurityConfig(t *testing.T) {
	user, pass, err := jaasCredentials(`org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3 cret";`)
	if err != nil || user != "alice" || pass != "s3 cret" {
		t.Fatalf("jaas: %q %q %v", user, pass, err)
	}
	for _, m := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		opts, err := securityOpts(connect.Config{"src.kafka.security.protocol": "SASL_PLAINTEXT", "src.kafka.sasl.mechanism": m,
			"src.kafka.sasl.jaas.config": `x required username="u" password="p";`}, "src.kafka.")
		if err != nil || len(opts) != 1 {
			t.Fatalf("%s: %d options, %v", m, len(opts), err)
		}
	}
	cases := []struct {
		cfg  connect.Config
		want string
	}{
		{connect.Config{"src.kafka.security.protocol": "SASL_SSL", "src.kafka.sasl.jaas.config": "username=u"}, "sasl.jaas.config"},
		{connect.Config{"src.kafka.security.protocol": "TLS"}, "must be one of PLAINTEXT, SSL"},
		{connect.Config{"src.kafka.sasl.mechanism": "GSSAPI"}, "must be one of PLAIN"},
		{connect.Config{"src.kafka.security.protocol": "SSL", "src.kafka.ssl.ca.location": "/nonexistent.pem"}, "ssl.ca.location"},
		{connect.Config{"src.kafka.security.protocol": "SSL", "src.kafka.ssl.key.location": "k.pem"}, "go together"},
	}
	for _, c := range cases {
		c.cfg["src.kafka.bootstrap.servers"] = "h:1"
		c.cfg["topic.whitelist"] = "a"
		_, err := connector{}.TaskConfigs(c.cfg, 1)
		if err == nil {
			err = (&task{}).Start(context.Background(), c.cfg, connectortest.NewTaskContext(t, "r", 0, nil))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}
