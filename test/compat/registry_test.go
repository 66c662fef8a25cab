package compat

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// srCall makes one Schema Registry REST call and decodes the JSON answer.
func srCall(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	return resp.StatusCode, out
}

// TestRegistryInSluiceDev registers a schema with the registry of a real
// `sluice dev`, reads it through the main HTTP server's /schema-registry/
// mount, kills the process with SIGKILL, and finds the same id and schema
// after the restart.
func TestRegistryInSluiceDev(t *testing.T) {
	b := startBroker(t)
	schema := `{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"}`
	code, reg := srCall(t, "POST", "http://"+b.registryAddr+"/subjects/orders-value/versions", schema)
	if code != 200 || reg["id"] == nil {
		t.Fatalf("register: %d %v", code, reg)
	}
	code, got := srCall(t, "GET", "http://"+b.httpAddr+"/schema-registry/subjects/orders-value/versions/latest", "")
	if code != 200 || got["id"] != reg["id"] {
		t.Fatalf("through the main HTTP server: %d %v", code, got)
	}
	code, bad := srCall(t, "POST", "http://"+b.registryAddr+"/subjects/bad-value/versions", `{"schema":"{not avro"}`)
	if code != 422 || bad["error_code"] != float64(42201) {
		t.Fatalf("malformed schema: %d %v", code, bad)
	}

	// Broker-side validation against this registry: a topic with
	// confluent.value.schema.validation=true accepts only values that carry
	// an id registered under <topic>-value.
	on := "true"
	createTopic(t, b.admin(t), "orders", 1, map[string]*string{"confluent.value.schema.validation": &on})
	cl := b.client(t, kgo.DisableIdempotentWrite(), kgo.RecordRetries(0))
	id := int(reg["id"].(float64))
	good := append([]byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}, 2) // long 1 in Avro
	ctx := testCtx(t, 30*time.Second)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Key: []byte("k"), Value: good}).FirstErr(); err != nil {
		t.Fatalf("value with the registered id: %v", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Key: []byte("k"), Value: []byte(`{"id":1}`)}).FirstErr(); !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("value without a schema id: %v, want INVALID_RECORD", err)
	}

	b.kill()
	b.start()
	var again map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; {
		// The registry starts listening just after the broker does.
		if c, err := http.Get("http://" + b.registryAddr + "/subjects"); err == nil {
			c.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the registry did not come back after the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, again = srCall(t, "GET", "http://"+b.registryAddr+"/subjects/orders-value/versions/latest", "")
	if code != 200 || again["id"] != reg["id"] || again["schema"] != got["schema"] {
		t.Fatalf("after kill -9 and restart: %d %v, want id %v", code, again, reg["id"])
	}
}
