package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/sluicedata/sluice/connect"
)

// Connection security for the clusters the replicator talks to, with the
// keys of a Kafka client (security.protocol, sasl.*) under the src.kafka. and
// dest.kafka. prefixes. Certificates are PEM files, as librdkafka takes them
// (ssl.ca.location ...), since Go cannot read Java keystores.

func securityFields(prefix, group string) []connect.FieldSpec {
	return []connect.FieldSpec{
		{Name: prefix + "security.protocol", Type: connect.TypeString, Default: "PLAINTEXT", Importance: "MEDIUM", Group: group,
			Recommended: []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"},
			Doc:         "Protocol used to talk to the brokers: TLS (SSL), SASL authentication, both or neither."},
		{Name: prefix + "sasl.mechanism", Type: connect.TypeString, Default: "PLAIN", Importance: "MEDIUM", Group: group,
			Recommended: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"},
			Doc:         "SASL mechanism with security.protocol SASL_PLAINTEXT or SASL_SSL."},
		{Name: prefix + "sasl.jaas.config", Type: connect.TypePassword, Importance: "MEDIUM", Group: group,
			Doc: `SASL credentials as a Kafka client writes them: ...LoginModule required username="u" password="p";`,
			Validate: func(v string) error {
				_, _, err := jaasCredentials(v)
				return err
			}},
		{Name: prefix + "ssl.ca.location", Type: connect.TypeString, Importance: "MEDIUM", Group: group,
			Doc: "PEM file of the certificate authorities that sign the brokers' certificates. Empty: the system's."},
		{Name: prefix + "ssl.certificate.location", Type: connect.TypeString, Importance: "LOW", Group: group,
			Doc: "PEM file of the client certificate, for brokers that require TLS client authentication (with ssl.key.location)."},
		{Name: prefix + "ssl.key.location", Type: connect.TypeString, Importance: "LOW", Group: group,
			Doc: "PEM file of the client certificate's private key."},
		{Name: prefix + "ssl.endpoint.identification.algorithm", Type: connect.TypeString, Default: "https", Importance: "LOW", Group: group,
			Recommended: []string{"https", ""},
			Doc:         "https checks that a broker's certificate names its host; empty checks only that a trusted authority signed it."},
	}
}

var jaasPair = regexp.MustCompile(`(\w+)\s*=\s*"([^"]*)"`)

// jaasCredentials reads username and password from a JAAS config line.
func jaasCredentials(v string) (user, pass string, err error) {
	for _, m := range jaasPair.FindAllStringSubmatch(v, -1) {
		switch m[1] {
		case "username":
			user = m[2]
		case "password":
			pass = m[2]
		}
	}
	if user == "" || pass == "" {
		return "", "", errors.New(`expected username="..." and password="..."`)
	}
	return user, pass, nil
}

// securityOpts returns the client options for the cluster whose keys start
// with prefix.
func securityOpts(cfg connect.Config, prefix string) ([]kgo.Opt, error) {
	proto := strings.ToUpper(cfg.String(&Spec, prefix+"security.protocol"))
	var opts []kgo.Opt
	if proto == "SSL" || proto == "SASL_SSL" {
		tc, err := tlsConfig(cfg, prefix)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if proto == "SASL_PLAINTEXT" || proto == "SASL_SSL" {
		user, pass, err := jaasCredentials(cfg[prefix+"sasl.jaas.config"])
		if err != nil {
			return nil, fmt.Errorf("%ssasl.jaas.config: %w", prefix, err)
		}
		switch mech := strings.ToUpper(cfg.String(&Spec, prefix+"sasl.mechanism")); mech {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("%ssasl.mechanism: %q is not supported", prefix, mech)
		}
	}
	return opts, nil
}

func tlsConfig(cfg connect.Config, prefix string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := cfg[prefix+"ssl.ca.location"]; ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%sssl.ca.location: %w", prefix, err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%sssl.ca.location: no PEM certificate in %s", prefix, ca)
		}
	}
	cert, key := cfg[prefix+"ssl.certificate.location"], cfg[prefix+"ssl.key.location"]
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("%sssl.certificate.location and %sssl.key.location go together", prefix, prefix)
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%sssl client certificate: %w", prefix, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if cfg.String(&Spec, prefix+"ssl.endpoint.identification.algorithm") == "" {
		// Verify the chain but not the host name, as Kafka clients do with
		// an empty algorithm.
		roots := tc.RootCAs
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return tc, nil
}
