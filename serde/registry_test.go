package serde

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/testkit"
)

// startRegistry starts a broker and Sluice's schema registry on it and
// returns its URL and a client.
func startRegistry(t *testing.T) (string, *srclient.Client) {
	t.Helper()
	return startRegistryOn(t, testkit.StartBroker(t))
}

// startRegistryOn starts Sluice's schema registry on broker b.
func startRegistryOn(t *testing.T, b *testkit.Broker) (string, *srclient.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := registry.Open(ctx, []string{b.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(func() { srv.Close(); r.Close() })
	return srv.URL, srclient.New(srv.URL)
}

// subjects lists the registry's subjects.
func subjects(t *testing.T, url string) []string {
	t.Helper()
	res, err := http.Get(url + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out []string
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
