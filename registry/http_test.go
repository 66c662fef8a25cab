package registry

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/testkit"
)

// client is a small REST client for tests against one registry node.
type client struct {
	t   *testing.T
	url string
}

func startRegistry(t *testing.T, brokerAddr string, opts ...Option) (*Registry, *client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := Open(ctx, []string{brokerAddr}, opts...)
	if err != nil {
		t.Fatalf("open registry: %v", err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(func() { srv.Close(); r.Close() })
	return r, &client{t: t, url: srv.URL}
}

type resp struct {
	status int
	body   string
	ct     string
}

func (c *client) do(method, path, body string, ct ...string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if len(ct) > 0 {
		req.Header.Set("Content-Type", ct[0])
	} else if body != "" {
		req.Header.Set("Content-Type", ContentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: strings.TrimSpace(string(b)), ct: res.Header.Get("Content-Type")}
}

// expect checks status and that the body equals want (compared as JSON when
// want is JSON).
func (c *client) expect(method, path, body string, status int, want string) resp {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.status != status {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
	if want != "" && !jsonEqual(r.body, want) {
		c.t.Fatalf("%s %s: body\n %s\nwant\n %s", method, path, r.body, want)
	}
	return r
}

// expectCode checks an error response's status and error_code.
func (c *client) expectCode(method, path, body string, status, code int) {
	c.t.Helper()
	r := c.do(method, path, body)
	var e errorBody
	if r.status != status || json.Unmarshal([]byte(r.body), &e) != nil || e.Code != code || e.Message == "" {
		c.t.Fatalf("%s %s: got %d %s, want %d with error_code %d", method, path, r.status, r.body, status, code)
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	x = dropUnasked(x, y)
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

// dropUnasked removes from got the fields newer registries add that a test
// did not ask about: "guid" everywhere, and everything but "id" from a
// register answer written as {"id":N}.
func dropUnasked(got, want any) any {
	switch g := got.(type) {
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok {
			return got
		}
		if _, asked := w["guid"]; !asked {
			delete(g, "guid")
		}
		if _, hasID := w["id"]; hasID && len(w) == 1 {
			return map[string]any{"id": g["id"]}
		}
		for k, v := range g {
			g[k] = dropUnasked(v, w[k])
		}
	case []any:
		w, _ := want.([]any)
		for i := range g {
			if i < len(w) {
				g[i] = dropUnasked(g[i], w[i])
			}
		}
	}
	return got
}

func schemaBody(schema string, extra ...string) string {
	b, _ := json.Marshal(schema)
	s := `{"schema":` + string(b)
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

const (
	userV1 = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}`
	userV2 = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}`
	userV3 = `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""},{"name":"age","type":"int"}]}`
)

func TestRegisterAndRead(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())

	c.expect("GET", "/", "", 200, `{}`)
	c.expect("GET", "/subjects", "", 200, `[]`)
	c.expect("GET", "/schemas/types", "", 200, `["JSON","PROTOBUF","AVRO"]`)
	c.expect("POST", "/subjects/users-value/versions", schemaBody(userV1), 200, `{"id":1}`)
	// Same schema again, also with different whitespace: same id, no new version.
	c.expect("POST", "/subjects/users-value/versions", schemaBody(userV1), 200, `{"id":1}`)
	c.expect("POST", "/subjects/users-value/versions", schemaBody(strings.ReplaceAll(userV1, ",", " , ")), 200, `{"id":1}`)
	// Same schema under another subject: same id.
	c.expect("POST", "/subjects/other-value/versions", schemaBody(userV1), 200, `{"id":1}`)
	c.expect("POST", "/subjects/users-value/versions", schemaBody(userV2), 200, `{"id":2}`)

	c.expect("GET", "/subjects", "", 200, `["other-value","users-value"]`)
	c.expect("GET", "/subjects?subjectPrefix=users", "", 200, `["users-value"]`)
	c.expect("GET", "/subjects/users-value/versions", "", 200, `[1,2]`)
	c.expect("GET", "/subjects/users-value/versions?offset=1&limit=1", "", 200, `[2]`)
	c.expect("GET", "/subjects/users-value/versions/1", "", 200,
		`{"subject":"users-value","version":1,"id":1,"schema":`+string(mustJSON(userV1))+`}`)
	c.expect("GET", "/subjects/users-value/versions/latest", "", 200,
		`{"subject":"users-value","version":2,"id":2,"schema":`+string(mustJSON(userV2))+`}`)
	c.expect("GET", "/subjects/users-value/versions/-1", "", 200,
		`{"subject":"users-value","version":2,"id":2,"schema":`+string(mustJSON(userV2))+`}`)
	r := c.expect("GET", "/subjects/users-value/versions/2/schema", "", 200, userV2)
	if r.ct != ContentType {
		t.Errorf("content type %q, want %q", r.ct, ContentType)
	}
	c.expect("GET", "/schemas/ids/1", "", 200, `{"schema":`+string(mustJSON(userV1))+`}`)
	c.expect("GET", "/schemas/ids/2/schema", "", 200, userV2)
	c.expect("GET", "/schemas/ids/1/subjects", "", 200, `["other-value","users-value"]`)
	c.expect("GET", "/schemas/ids/1/versions", "", 200, `[{"subject":"other-value","version":1},{"subject":"users-value","version":1}]`)
	c.expect("GET", "/schemas?subjectPrefix=users&latestOnly=true", "", 200,
		`[{"subject":"users-value","version":2,"id":2,"schema":`+string(mustJSON(userV2))+`}]`)

	// Lookup.
	c.expect("POST", "/subjects/users-value", schemaBody(userV1), 200,
		`{"subject":"users-value","version":1,"id":1,"schema":`+string(mustJSON(userV1))+`}`)
	c.expectCode("POST", "/subjects/users-value", schemaBody(userV3), 404, 40403)
	c.expectCode("POST", "/subjects/nobody", schemaBody(userV1), 404, 40401)

	// Not found and invalid arguments.
	c.expectCode("GET", "/subjects/nobody/versions", "", 404, 40401)
	c.expectCode("GET", "/subjects/nobody/versions/1", "", 404, 40401)
	c.expectCode("GET", "/subjects/users-value/versions/9", "", 404, 40402)
	c.expectCode("GET", "/subjects/users-value/versions/0", "", 422, 42202)
	c.expectCode("GET", "/subjects/users-value/versions/abc", "", 422, 42202)
	c.expectCode("GET", "/subjects/users-value/versions/2147483648", "", 422, 42202)
	c.expectCode("GET", "/schemas/ids/99", "", 404, 40403)
	c.expectCode("GET", "/schemas/ids/99/subjects", "", 404, 40403)
	c.expectCode("GET", "/nowhere", "", 404, 404)
	c.expectCode("PATCH", "/subjects", "", 405, 405)

	// Incompatible (BACKWARD default): a new field without default.
	r = c.do("POST", "/subjects/users-value/versions", schemaBody(userV3))
	if r.status != 409 || !strings.Contains(r.body, `"error_code":40901`) || !strings.Contains(r.body, "READER_FIELD_MISSING_DEFAULT_VALUE") {
		t.Fatalf("incompatible register: %d %s", r.status, r.body)
	}
	c.expect("GET", "/subjects/users-value/versions", "", 200, `[1,2]`)
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func TestCompatibilityEndpoint(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	// latest of an empty subject is compatible.
	c.expect("POST", "/compatibility/subjects/s/versions/latest", schemaBody(userV1), 200, `{"is_compatible":true}`)
	c.expectCode("POST", "/compatibility/subjects/s/versions/1", schemaBody(userV1), 404, 40401)
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1), 200, `{"id":1}`)
	c.expectCode("POST", "/compatibility/subjects/s/versions/7", schemaBody(userV1), 404, 40402)
	c.expect("POST", "/compatibility/subjects/s/versions/latest", schemaBody(userV2), 200, `{"is_compatible":true}`)
	c.expect("POST", "/compatibility/subjects/s/versions/latest?verbose=true", schemaBody(userV2), 200, `{"is_compatible":true,"messages":[]}`)
	c.expect("POST", "/compatibility/subjects/s/versions/1", schemaBody(userV3), 200, `{"is_compatible":false}`)
	r := c.do("POST", "/compatibility/subjects/s/versions/1?verbose=true", schemaBody(userV3))
	if r.status != 200 || !strings.Contains(r.body, `"is_compatible":false`) || !strings.Contains(r.body, "'age'") {
		t.Fatalf("verbose: %d %s", r.status, r.body)
	}
	c.expect("POST", "/compatibility/subjects/s/versions", schemaBody(userV2), 200, `{"is_compatible":true}`)
	c.expectCode("POST", "/compatibility/subjects/s/versions/latest", schemaBody(`{"type":"nope"}`), 422, 42201)

	// Levels per subject and global.
	c.expect("GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD"}`)
	c.expectCode("GET", "/config/s", "", 404, 40408)
	c.expect("GET", "/config/s?defaultToGlobal=true", "", 200, `{"compatibilityLevel":"BACKWARD"}`)
	c.expect("PUT", "/config/s", `{"compatibility":"NONE"}`, 200, `{"compatibility":"NONE"}`)
	c.expect("GET", "/config/s", "", 200, `{"compatibilityLevel":"NONE"}`)
	c.expect("POST", "/compatibility/subjects/s/versions/latest", schemaBody(userV3), 200, `{"is_compatible":true}`)
	c.expect("POST", "/subjects/s/versions", schemaBody(userV3), 200, `{"id":2}`)
	c.expectCode("PUT", "/config/s", `{"compatibility":"SIDEWAYS"}`, 422, 42203)
	c.expect("DELETE", "/config/s", "", 200, `{"compatibilityLevel":"NONE"}`)
	c.expectCode("GET", "/config/s", "", 404, 40408)
	c.expectCode("DELETE", "/config/s", "", 404, 40408)
	c.expectCode("DELETE", "/config/unknown", "", 404, 40401)
	c.expect("PUT", "/config", `{"compatibility":"full_transitive"}`, 200, `{"compatibility":"FULL_TRANSITIVE"}`)
	c.expect("GET", "/config", "", 200, `{"compatibilityLevel":"FULL_TRANSITIVE"}`)
	c.expect("DELETE", "/config", "", 200, `{"compatibilityLevel":"FULL_TRANSITIVE"}`)
	c.expect("GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD"}`)
}

func TestDeleteRules(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1), 200, `{"id":1}`)
	c.expect("POST", "/subjects/s/versions", schemaBody(userV2), 200, `{"id":2}`)

	// Versions: soft, then permanent.
	c.expectCode("DELETE", "/subjects/s/versions/1?permanent=true", "", 404, 40407)
	c.expect("DELETE", "/subjects/s/versions/1", "", 200, `1`)
	c.expectCode("DELETE", "/subjects/s/versions/1", "", 404, 40406)
	c.expectCode("GET", "/subjects/s/versions/1", "", 404, 40402)
	c.expect("GET", "/subjects/s/versions/1?deleted=true", "", 200,
		`{"subject":"s","version":1,"id":1,"schema":`+string(mustJSON(userV1))+`}`)
	c.expect("GET", "/subjects/s/versions", "", 200, `[2]`)
	c.expect("GET", "/subjects/s/versions?deleted=true", "", 200, `[1,2]`)
	c.expect("GET", "/subjects/s/versions?deletedOnly=true", "", 200, `[1]`)
	c.expect("GET", "/schemas/ids/1", "", 200, "") // ids stay readable after a soft delete
	c.expect("DELETE", "/subjects/s/versions/1?permanent=true", "", 200, `1`)
	c.expectCode("GET", "/subjects/s/versions/1?deleted=true", "", 404, 40402)
	c.expectCode("GET", "/schemas/ids/1", "", 404, 40403)
	c.expectCode("DELETE", "/subjects/s/versions/1?permanent=true", "", 404, 40402)

	// Subjects: soft, then permanent.
	c.expectCode("DELETE", "/subjects/s?permanent=true", "", 404, 40405)
	c.expect("DELETE", "/subjects/s", "", 200, `[2]`)
	c.expectCode("DELETE", "/subjects/s", "", 404, 40404)
	c.expect("GET", "/subjects", "", 200, `[]`)
	c.expect("GET", "/subjects?deleted=true", "", 200, `["s"]`)
	c.expect("GET", "/subjects?deletedOnly=true", "", 200, `["s"]`)
	c.expectCode("GET", "/subjects/s/versions", "", 404, 40401)
	c.expect("DELETE", "/subjects/s?permanent=true", "", 200, `[2]`)
	c.expectCode("DELETE", "/subjects/s", "", 404, 40401)
	c.expect("GET", "/subjects?deleted=true", "", 200, `[]`)

	// Ids are never reused, even after permanent deletes.
	c.expect("POST", "/subjects/s/versions", schemaBody(userV3), 200, `{"id":3}`)
	// Re-registering a permanently deleted schema gives a fresh id.
	c.expect("POST", "/subjects/t/versions", schemaBody(userV1), 200, `{"id":4}`)
}

func TestReferences(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	addr := `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"}]}`
	c.expect("POST", "/subjects/address/versions", schemaBody(addr), 200, `{"id":1}`)
	person := `{"type":"record","name":"Person","namespace":"com.acme","fields":[{"name":"home","type":"com.acme.Address"}]}`
	refs := `"references":[{"name":"com.acme.Address","subject":"address","version":1}]`
	// Without the reference the name is unknown.
	c.expectCode("POST", "/subjects/person/versions", schemaBody(person), 422, 42201)
	c.expectCode("POST", "/subjects/person/versions", schemaBody(person, `"references":[{"name":"com.acme.Address","subject":"address","version":5}]`), 422, 42201)
	c.expect("POST", "/subjects/person/versions", schemaBody(person, refs), 200, `{"id":2}`)
	c.expect("GET", "/schemas/ids/2", "", 200,
		`{"schema":`+string(mustJSON(person))+`,"references":[{"name":"com.acme.Address","subject":"address","version":1}]}`)
	c.expect("GET", "/subjects/address/versions/1/referencedby", "", 200, `[2]`)
	c.expect("POST", "/subjects/person", schemaBody(person, refs), 200, "")
	// A referenced schema cannot be deleted.
	c.expectCode("DELETE", "/subjects/address/versions/1", "", 422, 42206)
	c.expectCode("DELETE", "/subjects/address", "", 422, 42206)
	// Compatibility of a schema with references.
	person2 := `{"type":"record","name":"Person","namespace":"com.acme","fields":[{"name":"home","type":"com.acme.Address"},{"name":"nick","type":"string","default":""}]}`
	c.expect("POST", "/compatibility/subjects/person/versions/latest", schemaBody(person2, refs), 200, `{"is_compatible":true}`)
	c.expect("POST", "/subjects/person/versions", schemaBody(person2, refs), 200, `{"id":3}`)
}

func TestModes(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	c.expect("GET", "/mode", "", 200, `{"mode":"READWRITE"}`)
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1), 200, `{"id":1}`)
	c.expectCode("PUT", "/mode", `{"mode":"WHATEVER"}`, 422, 42204)
	c.expect("PUT", "/mode/s", `{"mode":"READONLY"}`, 200, `{"mode":"READONLY"}`)
	c.expect("GET", "/mode/s", "", 200, `{"mode":"READONLY"}`)
	c.expectCode("POST", "/subjects/s/versions", schemaBody(userV2), 422, 42205)
	c.expectCode("DELETE", "/subjects/s", "", 422, 42205)
	c.expect("POST", "/subjects/other/versions", schemaBody(userV2), 200, `{"id":2}`)
	c.expect("DELETE", "/mode/s", "", 200, `{"mode":"READONLY"}`)
	c.expectCode("GET", "/mode/s", "", 404, 40409)
	c.expect("GET", "/mode/s?defaultToGlobal=true", "", 200, `{"mode":"READWRITE"}`)

	// IMPORT needs an empty registry or force, then takes explicit ids.
	c.expectCode("PUT", "/mode", `{"mode":"IMPORT"}`, 422, 42205)
	c.expect("PUT", "/mode?force=true", `{"mode":"IMPORT"}`, 200, `{"mode":"IMPORT"}`)
	c.expect("POST", "/subjects/imported/versions", schemaBody(userV3, `"id":100`, `"version":7`), 200, `{"id":100}`)
	c.expectCode("POST", "/subjects/imported2/versions", schemaBody(userV2, `"id":100`, `"version":1`), 422, 42207)
	c.expect("GET", "/subjects/imported/versions", "", 200, `[7]`)
	c.expect("PUT", "/mode", `{"mode":"READWRITE"}`, 200, `{"mode":"READWRITE"}`)
	c.expectCode("POST", "/subjects/x/versions", schemaBody(userV1, `"id":5`), 422, 42205)
	// After an import the next id is above every imported id.
	c.expect("POST", "/subjects/next/versions", schemaBody(`"string"`), 200, `{"id":101}`)
}

func TestBadInput(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr(), WithMaxBodyBytes(1<<10))
	for _, body := range []string{
		schemaBody(`{"type":"record","name":"R","fields":[{"name":"a"}]}`),                            // field without type
		schemaBody(`{"type":"record","name":"R","fields":[{"name":"a",`),                              // truncated JSON
		schemaBody(`{"type":"enum","name":"E","symbols":["A","A"]}`),                                  // duplicate symbol
		schemaBody(`{"type":"record","name":"1R","fields":[]}`),                                       // bad name
		schemaBody(`{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}`), // bad default
		schemaBody(`{"type":"com.acme.Unknown"}`),                                                     // unknown named type
		schemaBody(`{"type":"object","properties":{"a":{"type":7}}}`, `"schemaType":"JSON"`),
		schemaBody(`syntax = "proto3"; message M { int32 a = 1; int32 b = 1; }`, `"schemaType":"PROTOBUF"`),
		schemaBody(`syntax = "proto3"; import "other.proto"; message M { Other o = 1; }`, `"schemaType":"PROTOBUF"`),
		schemaBody(`message {`, `"schemaType":"PROTOBUF"`),
		schemaBody(`"string"`, `"schemaType":"XML"`),
		schemaBody(``),
		`{"schema":`,
		`not json`,
	} {
		r := c.do("POST", "/subjects/bad/versions", body)
		var e errorBody
		if r.status != 422 || json.Unmarshal([]byte(r.body), &e) != nil || e.Code != 42201 {
			t.Errorf("POST %s: got %d %s, want 422 with 42201", body, r.status, r.body)
		}
	}
	r := c.do("POST", "/subjects/bad/versions", schemaBody(userV1), "text/plain")
	if r.status != 415 || !strings.Contains(r.body, `"error_code":415`) {
		t.Errorf("wrong content type: %d %s", r.status, r.body)
	}
	big := schemaBody(`{"type":"record","name":"R","doc":"` + strings.Repeat("x", 2<<10) + `","fields":[]}`)
	c.expectCode("POST", "/subjects/bad/versions", big, 422, 42209)
	// Nothing was stored, and the next id is still 1.
	c.expect("GET", "/subjects?deleted=true", "", 200, `[]`)
	r = c.do("POST", "/subjects/good/versions", schemaBody(`"string"`), "application/json")
	if r.status != 200 || !jsonEqual(r.body, `{"id":1}`) {
		t.Fatalf("plain application/json: %d %s", r.status, r.body)
	}
}

func TestJSONSchemaAPI(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	v1 := `{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`
	v2 := `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false}`
	v3 := `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["b"],"additionalProperties":false}`
	c.expect("POST", "/subjects/j/versions", schemaBody(v1, `"schemaType":"JSON"`), 200, `{"id":1}`)
	c.expect("POST", "/subjects/j/versions", schemaBody(v2, `"schemaType":"JSON"`), 200, `{"id":2}`)
	c.expectCode("POST", "/subjects/j/versions", schemaBody(v3, `"schemaType":"JSON"`), 409, 40901)
	c.expect("GET", "/schemas/ids/2", "", 200, `{"schema":`+string(mustJSON(v2))+`,"schemaType":"JSON"}`)
	c.expect("GET", "/subjects/j/versions/1", "", 200, `{"subject":"j","version":1,"id":1,"schemaType":"JSON","schema":`+string(mustJSON(v1))+`}`)
	// The same text as AVRO is a different schema: it does not parse as Avro.
	c.expectCode("POST", "/subjects/j", schemaBody(v1), 422, 42201)
	c.expect("POST", "/subjects/j", schemaBody(v1, `"schemaType":"JSON"`), 200, "")

	// References: the $ref names the reference.
	addr := `{"type":"object","properties":{"city":{"type":"string"}}}`
	c.expect("POST", "/subjects/addr/versions", schemaBody(addr, `"schemaType":"JSON"`), 200, `{"id":3}`)
	person := `{"type":"object","properties":{"home":{"$ref":"address.json"}}}`
	c.expectCode("POST", "/subjects/person/versions", schemaBody(person, `"schemaType":"JSON"`), 422, 42201)
	c.expect("POST", "/subjects/person/versions", schemaBody(person, `"schemaType":"JSON"`,
		`"references":[{"name":"address.json","subject":"addr","version":1}]`), 200, `{"id":4}`)
	// normalize: key order and spacing do not matter.
	c.expect("POST", "/subjects/n/versions?normalize=true", schemaBody(`{"type":"string","maxLength":3}`, `"schemaType":"JSON"`), 200, `{"id":5}`)
	c.expect("POST", "/subjects/n/versions?normalize=true", schemaBody(`{ "maxLength": 3, "type": "string" }`, `"schemaType":"JSON"`), 200, `{"id":5}`)
	c.expect("GET", "/subjects/n/versions", "", 200, `[1]`)
}

func TestDataContractFields(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	meta := `"metadata":{"properties":{"owner":"team-a"}}`
	rules := `"ruleSet":{"domainRules":[{"name":"positive","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id > 0"}]}`
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1, meta, rules), 200, `{"id":1}`)
	want := `{"subject":"s","version":1,"id":1,"schema":` + string(mustJSON(userV1)) +
		`,"metadata":{"properties":{"owner":"team-a"}},"ruleSet":{"domainRules":[{"name":"positive","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id > 0"}]}}`
	c.expect("GET", "/subjects/s/versions/1", "", 200, want)
	c.expect("GET", "/schemas/ids/1", "", 200, `{"schema":`+string(mustJSON(userV1))+
		`,"metadata":{"properties":{"owner":"team-a"}},"ruleSet":{"domainRules":[{"name":"positive","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id > 0"}]}}`)
	// Other metadata makes another schema (new id, new version).
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1, `"metadata":{"properties":{"owner":"team-b"}}`), 200, `{"id":2}`)
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1, meta, rules), 200, `{"id":1}`)
	c.expectCode("POST", "/subjects/s/versions", schemaBody(userV1, `"ruleSet":[1]`), 422, 42210)
	c.expect("GET", "/contexts", "", 200, `["."]`)
	c.expect("PUT", "/config", `{"normalize":true}`, 200, "")
	c.expect("GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD","normalize":true}`)
}

func TestProtobufAPI(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	common := `syntax = "proto3"; package acme; message Money { int64 units = 1; string currency = 2; }`
	c.expect("POST", "/subjects/money/versions", schemaBody(common, `"schemaType":"PROTOBUF"`), 200, `{"id":1}`)
	order := `syntax = "proto3"; package acme; import "acme/money.proto"; message Order { string id = 1; Money total = 2; }`
	ref := `"references":[{"name":"acme/money.proto","subject":"money","version":1}]`
	c.expectCode("POST", "/subjects/orders-value/versions", schemaBody(order, `"schemaType":"PROTOBUF"`), 422, 42201)
	c.expect("POST", "/subjects/orders-value/versions", schemaBody(order, `"schemaType":"PROTOBUF"`, ref), 200, `{"id":2}`)
	c.expect("GET", "/schemas/ids/2", "", 200, `{"schema":`+string(mustJSON(order))+`,"schemaType":"PROTOBUF","references":[{"name":"acme/money.proto","subject":"money","version":1}]}`)
	bad := `syntax = "proto3"; package acme; import "acme/money.proto"; message Order { int64 id = 1; Money total = 2; }`
	r := c.do("POST", "/subjects/orders-value/versions", schemaBody(bad, `"schemaType":"PROTOBUF"`, ref))
	if r.status != 409 || !strings.Contains(r.body, "FIELD_SCALAR_KIND_CHANGED") {
		t.Fatalf("incompatible protobuf: %d %s", r.status, r.body)
	}
	good := `syntax = "proto3"; package acme; import "acme/money.proto"; message Order { string id = 1; Money total = 2; string note = 3; }`
	c.expect("POST", "/compatibility/subjects/orders-value/versions/latest", schemaBody(good, `"schemaType":"PROTOBUF"`, ref), 200, `{"is_compatible":true}`)
}
