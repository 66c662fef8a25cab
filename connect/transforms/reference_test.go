package transforms

import (
	"flag"
	"os"
	"testing"

	"github.com/sluicedata/sluice/connect/internal/specdoc"
)

var rewrite = flag.Bool("rewrite", false, "rewrite generated files")

const referencePath = "../../docs/connect/transforms.md"

// TestReference keeps docs/connect/transforms.md in step with the specs.
func TestReference(t *testing.T) {
	got := specdoc.Markdown("Single message transforms and predicates",
		"Sluice runs Kafka Connect's transforms and predicates, Confluent's Drop and Debezium's ExtractNewRecordState. "+
			"Configure them in a connector config as in Kafka Connect:\n\n"+
			"```properties\ntransforms=unwrap,route\n"+
			"transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n"+
			"transforms.unwrap.add.fields=op,source.ts_ms\n"+
			"transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter\n"+
			"transforms.route.regex=dbserver1\\\\.inventory\\\\.(.*)\n"+
			"transforms.route.replacement=$1\n"+
			"transforms.route.predicate=isInventory\n"+
			"predicates=isInventory\n"+
			"predicates.isInventory.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches\n"+
			"predicates.isInventory.pattern=dbserver1\\\\.inventory\\\\..*\n```\n\n"+
			"`transforms.<alias>.negate=true` applies a transform when its predicate does not hold. "+
			"Every transform works on records with a schema (structs) and without (maps).",
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
		t.Fatalf("%v (run go test ./connect/transforms -run TestReference -rewrite)", err)
	}
	if string(want) != got {
		t.Errorf("%s is out of date: run go test ./connect/transforms -run TestReference -rewrite", referencePath)
	}
}
