package converters

import (
	"os"
	"testing"

	"github.com/sluicedata/sluice/connect/internal/specdoc"
)

const referencePath = "../../docs/connect/converters.md"

// TestReference keeps docs/connect/converters.md in step with the specs.
func TestReference(t *testing.T) {
	got := specdoc.Markdown("Converters",
		"Converters turn Connect records into Kafka bytes and back. Set them per connector (or per worker) as in Kafka Connect, "+
			"with their keys under the `key.converter.` and `value.converter.` prefixes:\n\n"+
			"```properties\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n"+
			"value.converter=io.confluent.connect.avro.AvroConverter\n"+
			"value.converter.schema.registry.url=http://localhost:8081\n```\n\n"+
			"The JSON converter writes the `{\"schema\": ..., \"payload\": ...}` envelope byte for byte as Kafka's JsonConverter. "+
			"The Avro, Protobuf and JSON Schema converters register the schema derived from the Connect schema "+
			"(subject `<topic>-value` by default) and write the Confluent wire format.",
		Specs())
	if *rewrite {
		if err := os.MkdirAll("../../docs/connect", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(referencePath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (run go test ./connect/converters -run TestReference -rewrite)", err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date: run go test ./connect/converters -run TestReference -rewrite", referencePath)
	}
}
