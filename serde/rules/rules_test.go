package rules

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/sql/types"
)

var userType = types.StructOf(
	types.Field{Name: "name", Type: types.StringType},
	types.Field{Name: "age", Type: types.IntType},
	types.Field{Name: "ssn", Type: types.StringType},
	types.Field{Name: "address", Type: types.StructOf(types.Field{Name: "city", Type: types.StringType})},
	types.Field{Name: "balance", Type: types.DecimalOf(10, 2)},
)

func user(name string, age int32, ssn string) types.StructVal {
	return types.StructVal{{Name: "name", Value: name}, {Name: "age", Value: age}, {Name: "ssn", Value: ssn},
		{Name: "address", Value: types.StructVal{{Name: "city", Value: "Lyon"}}}, {Name: "balance", Value: types.MustDec("12.50")}}
}

// recorder keeps dead letters in memory.
type recorder struct {
	mu  sync.Mutex
	dls []DeadLetter
}

func (r *recorder) WriteDeadLetter(_ context.Context, dl DeadLetter) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dls = append(r.dls, dl)
	return nil
}

func target(t *testing.T, ruleSet, metadata string) Target {
	t.Helper()
	rs, md, err := Parse(json.RawMessage(ruleSet), json.RawMessage(metadata))
	if err != nil {
		t.Fatal(err)
	}
	return Target{Subject: "users-value", Topic: "users", RootName: "User", Type: userType, RuleSet: rs, Metadata: md,
		DeadLetter: func() []byte { return []byte(`{"dead":true}`) }}
}

func TestConditions(t *testing.T) {
	e, err := NewExecutor()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, rules string
		v           types.StructVal
		write       bool
		wantErr     string // "" = passes
	}{
		{"cel true", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 18"}]}`, user("a", 30, "1"), true, ""},
		{"cel false", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 18"}]}`, user("a", 3, "1"), true, `rule "adult" (CONDITION CEL, WRITE, subject "users-value") failed: condition "message.age >= 18" is false`},
		{"nested and decimal", `{"domainRules":[{"name":"lyon","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.address.city == 'Lyon' && message.balance > 10.0"}]}`, user("a", 3, "1"), true, ""},
		{"write rule skipped on read", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 18"}]}`, user("a", 3, "1"), false, ""},
		{"read rule on read", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"READ","expr":"message.age >= 18"}]}`, user("a", 3, "1"), false, `rule "adult" (CONDITION CEL, READ`},
		{"writeread", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITEREAD","expr":"message.age >= 18"}]}`, user("a", 3, "1"), false, `"adult"`},
		{"disabled", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 18","disabled":true}]}`, user("a", 3, "1"), true, ""},
		{"onFailure NONE", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 18","onFailure":"NONE"}]}`, user("a", 3, "1"), true, ""},
		{"not a bool", `{"domainRules":[{"name":"n","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age"}]}`, user("a", 3, "1"), true, "returned int, not a bool"},
		{"compile error", `{"domainRules":[{"name":"n","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >="}]}`, user("a", 3, "1"), true, "compile"},
		{"unknown field", `{"domainRules":[{"name":"n","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.nope == 1"}]}`, user("a", 3, "1"), true, "no such key"},
		{"unsupported type", `{"domainRules":[{"name":"enc","kind":"TRANSFORM","type":"ENCRYPT","mode":"WRITEREAD","tags":["PII"]}]}`, user("a", 3, "1"), true, `no executor for rule type "ENCRYPT"`},
		{"field condition", `{"domainRules":[{"name":"short","kind":"CONDITION","type":"CEL_FIELD","mode":"WRITE","expr":"typeName == 'STRING' ; size(value) < 5"}]}`, user("abcdefg", 3, "1"), true, `field User.name: condition "size(value) < 5" is false`},
		{"field condition by tag", `{"domainRules":[{"name":"ssnLen","kind":"CONDITION","type":"CEL_FIELD","mode":"WRITE","tags":["PII"],"expr":"size(value) == 3"}]}`, user("abcdefg", 3, "123"), true, ""},
		{"field condition by tag fails", `{"domainRules":[{"name":"ssnLen","kind":"CONDITION","type":"CEL_FIELD","mode":"WRITE","tags":["PII"],"expr":"size(value) == 3"}]}`, user("abcdefg", 3, "12"), true, "field User.ssn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := target(t, c.rules, `{"tags":{"**.ssn":["PII"]}}`)
			var err error
			if c.write {
				_, err = e.Write(context.Background(), tg, c.v)
			} else {
				_, err = e.Read(context.Background(), tg, c.v)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
			var re *Error
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("error %T is not a *rules.Error", err)
			}
		})
	}
}

func TestTransforms(t *testing.T) {
	e, err := NewExecutor()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, rules string
		want        types.StructVal
	}{
		{"mask tagged field", `{"domainRules":[{"name":"mask","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","tags":["PII"],"expr":"'XXX'"}]}`,
			types.StructVal{{Name: "name", Value: "ann"}, {Name: "age", Value: int32(30)}, {Name: "ssn", Value: "XXX"},
				{Name: "address", Value: types.StructVal{{Name: "city", Value: "Lyon"}}}, {Name: "balance", Value: types.MustDec("12.50")}}},
		{"guarded string suffix", `{"domainRules":[{"name":"bang","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","expr":"typeName == 'STRING' && name != 'ssn' ; value + '!'"}]}`,
			types.StructVal{{Name: "name", Value: "ann!"}, {Name: "age", Value: int32(30)}, {Name: "ssn", Value: "123"},
				{Name: "address", Value: types.StructVal{{Name: "city", Value: "Lyon!"}}}, {Name: "balance", Value: types.MustDec("12.50")}}},
		{"whole message", `{"domainRules":[{"name":"older","kind":"TRANSFORM","type":"CEL","mode":"WRITE","expr":"{'name': message.name, 'age': message.age + 1, 'balance': 0.125}"}]}`,
			types.StructVal{{Name: "name", Value: "ann"}, {Name: "age", Value: int32(31)}, {Name: "ssn", Value: nil},
				{Name: "address", Value: nil}, {Name: "balance", Value: types.MustDec("0.13")}}},
		{"then condition sees the transform", `{"domainRules":[{"name":"mask","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","tags":["PII"],"expr":"'XXX'"},{"name":"masked","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.ssn == 'XXX'"}]}`,
			types.StructVal{{Name: "name", Value: "ann"}, {Name: "age", Value: int32(30)}, {Name: "ssn", Value: "XXX"},
				{Name: "address", Value: types.StructVal{{Name: "city", Value: "Lyon"}}}, {Name: "balance", Value: types.MustDec("12.50")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.Write(context.Background(), target(t, c.rules, `{"tags":{"User.ssn":["PII"]}}`), user("ann", 30, "123"))
			if err != nil {
				t.Fatal(err)
			}
			if !types.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestDLQAction(t *testing.T) {
	rec := &recorder{}
	e, err := NewExecutor(WithDeadLetterWriter(rec))
	if err != nil {
		t.Fatal(err)
	}
	tg := target(t, `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITEREAD","expr":"message.age >= 18","onFailure":"DLQ,ERROR","params":{"dlq.topic":"users-dlq"}}]}`, "")
	ctx := WithRecordKey(context.Background(), []byte("k1"))
	_, err = e.Write(ctx, tg, user("kid", 3, "1"))
	if !errors.Is(err, ErrDeadLettered) {
		t.Fatalf("write: %v, want ErrDeadLettered", err)
	}
	if len(rec.dls) != 1 {
		t.Fatalf("%d dead letters", len(rec.dls))
	}
	dl := rec.dls[0]
	hs := map[string]string{}
	for _, h := range dl.Headers {
		hs[h.Key] = string(h.Value)
	}
	if dl.Topic != "users-dlq" || string(dl.Key) != "k1" || string(dl.Value) != `{"dead":true}` ||
		hs[HeaderRuleName] != "adult" || hs[HeaderRuleMode] != "WRITE" || hs[HeaderRuleSubject] != "users-value" ||
		hs[HeaderRuleTopic] != "users" || !strings.Contains(hs[HeaderRuleException], "message.age >= 18") {
		t.Fatalf("dead letter %+v headers %v", dl, hs)
	}
	// Reading uses the second action: ERROR, nothing sent.
	_, err = e.Read(ctx, tg, user("kid", 3, "1"))
	if err == nil || errors.Is(err, ErrDeadLettered) || len(rec.dls) != 1 {
		t.Fatalf("read: %v, %d dead letters", err, len(rec.dls))
	}
	// A DLQ action without a topic or without a writer is an error saying so.
	noTopic := target(t, `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 18","onFailure":"DLQ"}]}`, "")
	if _, err := e.Write(ctx, noTopic, user("kid", 3, "1")); err == nil || !strings.Contains(err.Error(), "dlq.topic") {
		t.Fatalf("no topic: %v", err)
	}
	plain, _ := NewExecutor()
	if _, err := plain.Write(ctx, tg, user("kid", 3, "1")); err == nil || !strings.Contains(err.Error(), "no dead-letter writer") {
		t.Fatalf("no writer: %v", err)
	}
}

func TestSandbox(t *testing.T) {
	// A generous timeout: the cost limit, not the clock, must stop it.
	e, err := NewExecutor(WithCostLimit(1000), WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// A comprehension over a large range exceeds the cost limit.
	tg := target(t, `{"domainRules":[{"name":"spin","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"[1,2,3,4,5,6,7,8,9,10].all(x, [1,2,3,4,5,6,7,8,9,10].all(y, [1,2,3,4,5,6,7,8,9,10].all(z, x+y+z > 0)))"}]}`, "")
	if _, err := e.Write(context.Background(), tg, user("a", 1, "1")); err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Fatalf("cost limit: %v", err)
	}
	// A cancelled context stops evaluation.
	slow, _ := NewExecutor()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := slow.Write(ctx, tg, user("a", 1, "1")); err == nil || !strings.Contains(err.Error(), "cancel") {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestValidateAndGlob(t *testing.T) {
	for _, bad := range []string{
		`{"domainRules":[{"kind":"CONDITION","type":"CEL","mode":"WRITE"}]}`,
		`{"domainRules":[{"name":"x","kind":"CHECK","type":"CEL","mode":"WRITE"}]}`,
		`{"domainRules":[{"name":"x","kind":"CONDITION","type":"CEL","mode":"ALWAYS"}]}`,
		`{"domainRules":[{"name":"x","kind":"CONDITION","type":"CEL","mode":"WRITE","onFailure":"RETRY"}]}`,
	} {
		if _, _, err := Parse(json.RawMessage(bad), nil); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	for _, c := range []struct {
		pat, name string
		want      bool
	}{
		{"**.ssn", "User.ssn", true}, {"**.ssn", "User.address.ssn", true}, {"*.ssn", "User.address.ssn", false},
		{"User.*", "User.ssn", true}, {"User.ssn", "User.ssn", true}, {"User.ssn", "Other.ssn", false}, {"**", "A.b.c", true},
	} {
		if got := globMatch(c.pat, c.name); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.pat, c.name, got)
		}
	}
}

// TestFieldWalk: CEL_FIELD sees array elements and map values of
// primitives with their field's name, nested structs by path, and a bare
// primitive value as the root.
func TestFieldWalk(t *testing.T) {
	e, err := NewExecutor()
	if err != nil {
		t.Fatal(err)
	}
	typ := types.StructOf(types.F("tags", types.ArrayOf(types.StringType)), types.F("scores", types.MapOf(types.BigintType)),
		types.F("when", types.TimestampType))
	v := types.StructVal{{Name: "tags", Value: []types.Value{"a", nil, "b"}}, {Name: "scores", Value: map[string]types.Value{"x": int64(1)}},
		{Name: "when", Value: types.TimestampVal(5)}}
	rs, _, err := Parse([]byte(`{"domainRules":[
	 {"name":"up","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","expr":"typeName == 'STRING' && fullName == 'Doc.tags' ; value + value"},
	 {"name":"inc","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","expr":"typeName == 'LONG' && name != 'when' ; value + 10"},
	 {"name":"ts","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","expr":"name == 'when' ; value * 1000"}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Write(context.Background(), Target{RootName: "Doc", Type: typ, RuleSet: rs}, v)
	if err != nil {
		t.Fatal(err)
	}
	want := types.StructVal{{Name: "tags", Value: []types.Value{"aa", nil, "bb"}}, {Name: "scores", Value: map[string]types.Value{"x": int64(11)}},
		{Name: "when", Value: types.TimestampVal(5000)}}
	if !types.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// A bare value: the root is the field.
	rs, _, _ = Parse([]byte(`{"domainRules":[{"name":"pos","kind":"CONDITION","type":"CEL_FIELD","mode":"WRITE","expr":"name == 'Count' && value > 0"}]}`), nil)
	tg := Target{RootName: "Count", Type: types.IntType, RuleSet: rs}
	if _, err := e.Write(context.Background(), tg, int32(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Write(context.Background(), tg, int32(-3)); err == nil {
		t.Fatal("a bare negative value passed")
	}
}
