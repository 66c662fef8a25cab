package srclient

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/testkit"
)

// StartRegistry starts a broker and a registry on it and returns a client.
func startRegistry(t *testing.T) *Client {
	t.Helper()
	b := testkit.StartBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := registry.Open(ctx, []string{b.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(func() { srv.Close(); r.Close() })
	return New(srv.URL)
}

func TestRegisterAndFetch(t *testing.T) {
	c := startRegistry(t)
	ctx := context.Background()
	s := Schema{Schema: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`}
	id, err := c.Register(ctx, "t-value", s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Register(ctx, "other-value", s)
	if err != nil || again != id {
		t.Fatalf("same schema under another subject: id %d %v, want %d", again, err, id)
	}
	fresh := New(c.base)
	got, err := fresh.SchemaByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema == "" || got.SchemaType != "" {
		t.Errorf("schema by id = %+v", got)
	}
	js := Schema{Schema: `{"type":"object"}`, SchemaType: "JSON"}
	jid, err := c.Register(ctx, "j-value", js)
	if err != nil || jid == id {
		t.Fatalf("JSON schema id %d %v", jid, err)
	}
	if got, _ := fresh.SchemaByID(ctx, jid); got.SchemaType != "JSON" {
		t.Errorf("JSON schema type %q", got.SchemaType)
	}
	_, err = fresh.SchemaByID(ctx, 9999)
	var e *Error
	if !errors.As(err, &e) || e.Status != 404 || e.Code != 40403 {
		t.Errorf("unknown id: %v", err)
	}
	_, err = c.Register(ctx, "bad-value", Schema{Schema: `{"type":"nope"}`})
	if !errors.As(err, &e) || e.Code != 42201 {
		t.Errorf("invalid schema: %v", err)
	}
}
