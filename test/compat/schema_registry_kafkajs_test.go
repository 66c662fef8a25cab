package compat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSchemaRegistryJS runs kafkajs/schema_registry.js: an independent client,
// @kafkajs/confluent-schema-registry, registers an Avro schema with the
// registry of a real `sluice dev`, encodes records in the Confluent wire
// format, produces them with kafkajs, consumes them with a kafkajs consumer
// group and decodes them (fetching the schema by id). The test then reads the
// stored values with franz-go and checks that each starts with magic byte 0
// and the id the registry REST API gives for the subject <topic>-value.
func TestSchemaRegistryJS(t *testing.T) {
	node, dir := nodeScripts(t, "kafkajs", "@kafkajs/confluent-schema-registry")
	b := startBroker(t)
	registryURL := "http://" + b.registryAddr
	waitRegistry(t, registryURL)
	topic := topicName(t, "sr")

	stdoutText := runNode(t, node, dir, "schema_registry.js", b.addr, registryURL, topic)
	out := stdoutText
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "schema registry js: OK" {
		t.Fatalf("last line %q, want %q", last, "schema registry js: OK")
	}
	for _, want := range []string{"re-register same id ok", "produced 50", "consumed 50", "decoded 50 equal", "getSchema ok"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q", want)
		}
	}
	subject := topic + "-value"
	m := regexp.MustCompile(`(?m)^registered ` + regexp.QuoteMeta(subject) + ` id (\d+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output lacks %q", "registered "+subject+" id N")
	}
	jsID, _ := strconv.Atoi(m[1])

	// The id the registry itself reports for the subject.
	code, latest := srCall(t, "GET", registryURL+"/subjects/"+subject+"/versions/latest", "")
	idF, ok := latest["id"].(float64)
	if code != http.StatusOK || !ok {
		t.Fatalf("GET latest version of %s: %d %v", subject, code, latest)
	}
	id := int(idF)
	if id != jsID || latest["version"] != float64(1) {
		t.Fatalf("registry has %s version %v id %d, schema_registry.js registered id %d", subject, latest["version"], id, jsID)
	}
	code, byID := srCall(t, "GET", fmt.Sprintf("%s/schemas/ids/%d", registryURL, id), "")
	if s, _ := byID["schema"].(string); code != http.StatusOK || !strings.Contains(s, `"Order"`) {
		t.Fatalf("GET /schemas/ids/%d: %d %v", id, code, byID)
	}

	// Every stored value is in the Confluent wire format with that id.
	want := make([]byte, 5)
	binary.BigEndian.PutUint32(want[1:], uint32(id))
	got := consumeAll(t, b, topic, endOffsets(t, b.admin(t), topic))
	n := 0
	keys := map[string]bool{}
	for p, rs := range got {
		for _, r := range rs {
			if len(r.Value) <= 5 || !bytes.Equal(r.Value[:5], want) {
				t.Fatalf("partition %d offset %d: value starts % x, want % x then Avro", p, r.Offset, r.Value[:min(5, len(r.Value))], want)
			}
			keys[string(r.Key)] = true
			n++
		}
	}
	if n != 50 || len(keys) != 50 {
		t.Errorf("franz-go read %d records with %d distinct keys, want 50", n, len(keys))
	}
}

// waitRegistry polls the registry until it answers: `sluice dev` starts it
// just after the Kafka listener that startBroker waits for.
func waitRegistry(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := c.Get(url + "/subjects")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("schema registry at %s not ready after 30s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
