package converters

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

func TestValidate(t *testing.T) {
	errs := Validate(connect.Config{
		"key.converter":                               "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                             "io.confluent.connect.avro.AvroConverter",
		"value.converter.auto.register.schemas":       "maybe",
		"header.converter":                            "com.example.Nope",
		"value.converter.value.subject.name.strategy": "TopicNameStrategy",
	})
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Message
	}
	want := map[string]string{
		"value.converter.schema.registry.url":   "Missing required configuration",
		"value.converter.auto.register.schemas": "Expected value to be either true or false",
		"header.converter":                      "Class com.example.Nope could not be found",
	}
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("%s: %q, want it to mention %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %v", errs)
	}
	if errs := Validate(connect.Config{"value.converter": "json", "value.converter.schemas.enable": "false"}); len(errs) != 0 {
		t.Errorf("valid config: %v", errs)
	}
	if errs := Validate(connect.Config{"value.converter": "avro", "value.converter.schema.registry.url": "not a url"}); len(errs) != 1 ||
		!strings.Contains(errs[0].Message, "is not a URL") {
		t.Errorf("bad url: %v", errs)
	}
}
