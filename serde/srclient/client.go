// Package srclient is a small client for the Confluent Schema Registry REST
// API (served by Sluice's registry and by Confluent's): register a schema
// under a subject and fetch a schema by id, both cached, since the results
// never change for a given input (ids are never reused).
package srclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// ContentType is the registry's media type.
const ContentType = "application/vnd.schemaregistry.v1+json"

// Schema is a schema as the registry stores it. SchemaType is "" (AVRO),
// "JSON" or "PROTOBUF".
type Schema struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
}

// Reference names another registered schema a schema imports.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// Error is an error answer of the registry.
type Error struct {
	Status  int    // HTTP status
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("schema registry: %d %s (error %d)", e.Status, e.Message, e.Code)
}

// Client talks to one registry. It is safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client

	mu   sync.Mutex
	byID map[int]Schema
	ids  map[regKey]int
}

type regKey struct {
	subject, schema, typ string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// New returns a client of the registry at baseURL (e.g. http://localhost:8081).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: http.DefaultClient,
		byID: map[int]Schema{}, ids: map[regKey]int{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Register registers s under subject (or finds it registered) and returns
// its id. Results are cached per subject and schema text.
func (c *Client) Register(ctx context.Context, subject string, s Schema) (int, error) {
	k := regKey{subject, s.Schema, s.SchemaType}
	c.mu.Lock()
	id, ok := c.ids[k]
	c.mu.Unlock()
	if ok && len(s.References) == 0 {
		return id, nil
	}
	var out struct {
		ID int `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/subjects/"+url.PathEscape(subject)+"/versions", s, &out); err != nil {
		return 0, fmt.Errorf("register schema under subject %q: %w", subject, err)
	}
	c.mu.Lock()
	c.ids[k] = out.ID
	c.byID[out.ID] = s
	c.mu.Unlock()
	return out.ID, nil
}

// SchemaByID returns the schema with the given id, from the cache when it
// was seen before.
func (c *Client) SchemaByID(ctx context.Context, id int) (Schema, error) {
	c.mu.Lock()
	s, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), nil, &s); err != nil {
		return Schema{}, fmt.Errorf("fetch schema id %d: %w", id, err)
	}
	c.mu.Lock()
	c.byID[id] = s
	c.mu.Unlock()
	return s, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", ContentType)
	if in != nil {
		req.Header.Set("Content-Type", ContentType)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		e := &Error{Status: res.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		return e
	}
	return json.Unmarshal(b, out)
}

// Latest returns the id and schema of the latest version registered under
// subject (uncached: it changes as versions are added).
func (c *Client) Latest(ctx context.Context, subject string) (int, Schema, error) {
	var out struct {
		ID int `json:"id"`
		Schema
	}
	if err := c.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/latest", nil, &out); err != nil {
		return 0, Schema{}, fmt.Errorf("latest schema of subject %q: %w", subject, err)
	}
	c.mu.Lock()
	c.byID[out.ID] = out.Schema
	c.mu.Unlock()
	return out.ID, out.Schema, nil
}
