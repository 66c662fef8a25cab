package registry

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/testkit"
)

// TestGUIDs: register answers a GUID; the same schema has the same GUID in
// every subject, another schema (or the same text with another rule set)
// another; /schemas/guids serves them, and a new registry node reading the
// same topic knows the same GUIDs.
func TestGUIDs(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	reg := func(subject, body string) (id int, guid string) {
		t.Helper()
		r := c.expect("POST", "/subjects/"+subject+"/versions", body, 200, "")
		var out struct {
			ID      int    `json:"id"`
			Version int    `json:"version"`
			GUID    string `json:"guid"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil || out.Version == 0 {
			t.Fatalf("register answer %s: %v", r.body, err)
		}
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(out.GUID) {
			t.Fatalf("guid %q is not a UUID", out.GUID)
		}
		return out.ID, out.GUID
	}
	id1, g1 := reg("a", schemaBody(userV1))
	id1b, g1b := reg("b", schemaBody(userV1))
	_, g2 := reg("a", schemaBody(userV2))
	_, g3 := reg("c", schemaBody(userV1, `"ruleSet":{"domainRules":[{"name":"r","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"true"}]}`))
	if id1 != id1b || g1 != g1b || g1 == g2 || g1 == g3 {
		t.Fatalf("ids %d %d guids %s %s %s %s", id1, id1b, g1, g1b, g2, g3)
	}
	c.expect("GET", "/schemas/guids/"+g1, "", 200, `{"schema":`+string(mustJSON(userV1))+`,"guid":"`+g1+`"}`)
	c.expect("GET", "/schemas/guids/"+g1+"/ids", "", 200, `[{"context":".","id":1}]`)
	c.expect("GET", "/schemas/ids/1", "", 200, `{"schema":`+string(mustJSON(userV1))+`,"guid":"`+g1+`"}`)
	c.expectCode("GET", "/schemas/guids/00000000-0000-0000-0000-000000000000", "", 404, 40403)
	c.expect("GET", "/schemas/ids/1?fetchMaxId=true", "", 200, `{"schema":`+string(mustJSON(userV1))+`,"guid":"`+g1+`","maxId":3}`)

	// A second node over the same topic serves the same GUIDs.
	_, c2 := startRegistry(t, b.Addr())
	c2.expect("GET", "/schemas/guids/"+g2, "", 200, `{"schema":`+string(mustJSON(userV2))+`,"guid":"`+g2+`"}`)
	c2.expect("GET", "/subjects/a/versions/1", "", 200, `{"subject":"a","version":1,"id":1,"guid":"`+g1+`","schema":`+string(mustJSON(userV1))+`}`)
}

// TestContractCarriedOver: a registration without metadata or ruleSet keeps
// those of the subject's latest version, so re-registering the same text
// finds the version with the rules (as Confluent's registry does).
func TestContractCarriedOver(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	rules := `"ruleSet":{"domainRules":[{"name":"positive","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id > 0"}]}`
	meta := `"metadata":{"properties":{"owner":"team-a"}}`
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1, rules, meta), 200, `{"id":1}`)
	c.expect("POST", "/subjects/s/versions", schemaBody(userV1), 200, `{"id":1}`)
	c.expect("POST", "/subjects/s", schemaBody(userV1), 200, "")
	c.expect("POST", "/subjects/s/versions", schemaBody(userV2), 200, `{"id":2}`)
	c.expect("GET", "/subjects/s/versions/2", "", 200, `{"subject":"s","version":2,"id":2,"schema":`+string(mustJSON(userV2))+
		`,"metadata":{"properties":{"owner":"team-a"}},`+rules+`}`)
	// Other metadata given explicitly replaces it; the rules still carry over.
	c.expect("POST", "/subjects/s/versions", schemaBody(userV2, `"metadata":{"properties":{"owner":"team-b"}}`), 200, `{"id":3}`)
	c.expect("GET", "/subjects/s/versions/3", "", 200, `{"subject":"s","version":3,"id":3,"schema":`+string(mustJSON(userV2))+
		`,"metadata":{"properties":{"owner":"team-b"}},`+rules+`}`)
	// Rule sets are validated (42210).
	for _, bad := range []string{
		`"ruleSet":{"domainRules":[{"kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"true"}]}`,
		`"ruleSet":{"domainRules":[{"name":"a","kind":"CONDITION","mode":"UPGRADE","type":"CEL","expr":"true"}]}`,
		`"ruleSet":{"domainRules":[{"name":"a","kind":"CONDITION","mode":"WRITE","type":"CEL"},{"name":"a","kind":"CONDITION","mode":"READ","type":"CEL"}]}`,
		`"ruleSet":{"domainRules":[{"name":"a","kind":"CHECK","mode":"WRITE","type":"CEL"}]}`,
		`"ruleSet":{"domainRules":[{"name":"a","kind":"CONDITION","mode":"WRITE","type":"CEL","onFailure":"RETRY"}]}`,
		`"ruleSet":{"domainRules":[{"name":"a","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id >"}]}`,
		`"ruleSet":{"domainRules":[{"name":"a","kind":"TRANSFORM","mode":"WRITE","type":"CEL_FIELD","expr":"name == ; 'x'"}]}`,
		`"ruleSet":{"domainRules":[{"name":"a","kind":"CONDITION","mode":"WRITE","type":"CEL"}]}`,
	} {
		c.expectCode("POST", "/subjects/s/versions", schemaBody(userV2, bad), 422, 42210)
	}
}

// TestContractConfig: config defaults and overrides are merged into the
// metadata and rules of registered schemas; compatibilityGroup checks a new
// version only against versions of the same group; /subjects/{s}/metadata
// finds the latest version with given properties.
func TestContractConfig(t *testing.T) {
	b := testkit.StartBroker(t)
	_, c := startRegistry(t, b.Addr())
	c.expect("PUT", "/config", `{"defaultRuleSet":{"domainRules":[{"name":"d","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"true"}]},`+
		`"overrideMetadata":{"properties":{"owner":"platform"}}}`, 200, "")
	c.expect("PUT", "/config/s", `{"compatibilityGroup":"major"}`, 200, `{"compatibility":"","compatibilityGroup":"major"}`)
	c.expect("GET", "/config/s", "", 200, `{"compatibilityLevel":"BACKWARD","compatibilityGroup":"major"}`)
	c.expectCode("PUT", "/config", `{"defaultRuleSet":{"domainRules":[{"name":"x"}]}}`, 422, 42210)

	c.expect("POST", "/subjects/s/versions", schemaBody(userV1, `"metadata":{"properties":{"major":"1","owner":"me"}}`,
		`"ruleSet":{"domainRules":[{"name":"mine","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id > 0"}]}`), 200, `{"id":1}`)
	c.expect("GET", "/subjects/s/versions/1", "", 200, `{"subject":"s","version":1,"id":1,"schema":`+string(mustJSON(userV1))+
		`,"metadata":{"properties":{"major":"1","owner":"platform"}},"ruleSet":{"domainRules":[`+
		`{"name":"d","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"true"},`+
		`{"name":"mine","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.id > 0"}]}}`)
	// Incompatible (a new field without default) but in another group.
	v2 := `{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}`
	c.expectCode("POST", "/subjects/s/versions", schemaBody(v2), 409, 40901)
	c.expect("POST", "/compatibility/subjects/s/versions/latest", schemaBody(v2), 200, `{"is_compatible":false}`)
	c.expect("POST", "/compatibility/subjects/s/versions/latest", schemaBody(v2, `"metadata":{"properties":{"major":"2"}}`), 200, `{"is_compatible":true}`)
	c.expect("POST", "/subjects/s/versions", schemaBody(v2, `"metadata":{"properties":{"major":"2"}}`), 200, `{"id":2}`)
	c.expect("GET", "/subjects/s/metadata?key=major&value=1", "", 200, "")
	r := c.do("GET", "/subjects/s/metadata?key=major&value=1&key=owner&value=platform", "")
	if r.status != 200 || !strings.Contains(r.body, `"version":1`) {
		t.Fatalf("metadata lookup: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/subjects/s/metadata?key=owner&value=platform", "")
	if r.status != 200 || !strings.Contains(r.body, `"version":2`) {
		t.Fatalf("metadata lookup of the latest: %d %s", r.status, r.body)
	}
	c.expectCode("GET", "/subjects/s/metadata?key=major&value=3", "", 404, 40403)
	c.expectCode("GET", "/subjects/nope/metadata?key=major&value=3", "", 404, 40401)
}
