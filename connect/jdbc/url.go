package jdbc

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// target is a parsed connection.url: which database product and where.
type target struct {
	dialect  string // "postgresql" or "mysql"
	host     string // host:port
	database string
	user     string
	password string
	// params are the URL's other query parameters, passed to the driver
	// where it knows them (sslmode for PostgreSQL ...).
	params url.Values
	// zone is db.timezone: the session time zone, so that wall-clock
	// timestamps written to zoned columns (TIMESTAMPTZ, MySQL TIMESTAMP)
	// are read in it.
	zone *time.Location
}

// parseURL reads a JDBC URL as users write it for Confluent's JDBC sink:
// jdbc:postgresql://host:port/db?user=u&password=p, jdbc:mysql://... or
// jdbc:mariadb://.... A URL without jdbc: (postgres://, mysql://) is also
// accepted. user and password from the URL are overridden by
// connection.user and connection.password.
func parseURL(raw string) (target, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(s, "jdbc:")
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return target{}, fmt.Errorf("connection.url %q: want jdbc:postgresql://host:port/database or jdbc:mysql://host:port/database", raw)
	}
	var t target
	switch strings.ToLower(scheme) {
	case "postgresql", "postgres":
		t.dialect = "postgresql"
	case "mysql", "mariadb":
		t.dialect = "mysql"
	default:
		return target{}, fmt.Errorf("connection.url %q: database %q is not supported (postgresql, mysql and mariadb are)", raw, scheme)
	}
	u, err := url.Parse("x://" + rest)
	if err != nil {
		return target{}, fmt.Errorf("connection.url %q: %w", raw, err)
	}
	host := u.Host
	if host == "" {
		host = "localhost"
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		if t.dialect == "postgresql" {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "5432")
		} else {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "3306")
		}
	}
	t.host = host
	t.database = strings.TrimPrefix(u.Path, "/")
	if t.database == "" {
		return target{}, fmt.Errorf("connection.url %q: no database name after the host (jdbc:%s://host:port/DATABASE)", raw, scheme)
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
	}
	t.params = u.Query()
	if v := t.params.Get("user"); v != "" {
		t.user = v
	}
	if v := t.params.Get("password"); v != "" {
		t.password = v
	}
	t.params.Del("user")
	t.params.Del("password")
	return t, nil
}
