package jdbc

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// proxy forwards TCP connections to a database so a test can cut them all
// and refuse new ones, as a network failure or a database restart would.
type proxy struct {
	t        *testing.T
	upstream string
	addr     string
	mu       sync.Mutex
	ln       net.Listener
	conns    []net.Conn
	wg       sync.WaitGroup
}

func newProxy(t *testing.T, upstream string) *proxy {
	p := &proxy{t: t, upstream: upstream}
	p.start("127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

// stop closes the listener and every forwarded connection.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

func TestConnectionLostIsRetriable(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		upstream := "127.0.0.1:5432"
		if tdb.d == mariadb {
			upstream = "127.0.0.1:3306"
		}
		px := newProxy(t, upstream)
		viaProxy := *tdb
		viaProxy.url = strings.Replace(tdb.url, upstream, px.addr, 1)
		tk := startTask(t, &viaProxy, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert",
			"table.name.format": "lost", "max.retries": "1", "retry.backoff.ms": "1"})
		put(t, tk, user("t", 1, "a", nil))

		px.stop()
		batch := []*connect.Record{user("t", 2, "b", nil), user("t", 3, "c", nil)}
		err := tk.Put(context.Background(), batch)
		var re connect.Retriable
		if !errors.As(err, &re) {
			t.Fatalf("put with the database unreachable: got %v (%T), want connect.Retriable", err, err)
		}
		var rec *connect.RecordError
		if errors.As(err, &rec) {
			t.Fatalf("a lost connection must not fail single records: %v", err)
		}
		tdb.wantRows(t, "SELECT id FROM lost ORDER BY id", "1")

		// The runtime retries the same batch once the database is back.
		px.start(px.addr)
		put(t, tk, batch...)
		tdb.wantRows(t, "SELECT id, name FROM lost ORDER BY id", "1|a", "2|b", "3|c")
	})
}

func TestStartRefusesBadLogin(t *testing.T) {
	for _, url := range []string{
		"jdbc:postgresql://127.0.0.1:5432/no_such_db_jdbc_sink?user=postgres",
		"jdbc:mysql://127.0.0.1:3306/no_such_db_jdbc_sink?user=root",
	} {
		tk := &task{}
		err := tk.Start(context.Background(), connect.Config{"connection.url": url}, testContext(t))
		if err == nil || !strings.Contains(err.Error(), "no_such_db_jdbc_sink") {
			t.Errorf("%s: got %v, want an error naming the database", url, err)
		}
	}
}
