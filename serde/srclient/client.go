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
	"sort"
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
	// Metadata and RuleSet are the schema's data contract, as JSON.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	RuleSet  json.RawMessage `json:"ruleSet,omitempty"`
	// GUID is the schema's global id (set in answers of registries that
	// have GUIDs; never sent).
	GUID string `json:"guid,omitempty"`
}

// SubjectVersion is one version of a subject.
type SubjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	Schema
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

	mu       sync.Mutex
	byID     map[int]Schema
	byGUID   map[string]int
	ids      map[regKey]int
	versions map[subjectVersion]SubjectVersion
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
		byID: map[int]Schema{}, byGUID: map[string]int{}, ids: map[regKey]int{},
		versions: map[subjectVersion]SubjectVersion{}}
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
		Schema
	}
	s.GUID = ""
	if err := c.do(ctx, http.MethodPost, "/subjects/"+url.PathEscape(subject)+"/versions", s, &out); err != nil {
		return 0, fmt.Errorf("register schema under subject %q: %w", subject, err)
	}
	c.mu.Lock()
	c.ids[k] = out.ID
	// Only a full answer is cached: the registry may have added the
	// previous version's metadata and rules to the schema.
	if out.Schema.Schema != "" {
		c.byID[out.ID] = out.Schema
		if out.GUID != "" {
			c.byGUID[out.GUID] = out.ID
		}
	}
	c.mu.Unlock()
	return out.ID, nil
}

// SchemaByGUID returns the id and schema with the given GUID (cached).
func (c *Client) SchemaByGUID(ctx context.Context, guid string) (int, Schema, error) {
	c.mu.Lock()
	id, ok := c.byGUID[guid]
	s := c.byID[id]
	c.mu.Unlock()
	if ok {
		return id, s, nil
	}
	if err := c.do(ctx, http.MethodGet, "/schemas/guids/"+url.PathEscape(guid), nil, &s); err != nil {
		return 0, Schema{}, fmt.Errorf("fetch schema guid %s: %w", guid, err)
	}
	var ids []struct {
		Context string `json:"context"`
		ID      int    `json:"id"`
	}
	if err := c.do(ctx, http.MethodGet, "/schemas/guids/"+url.PathEscape(guid)+"/ids", nil, &ids); err != nil {
		return 0, Schema{}, fmt.Errorf("fetch ids of schema guid %s: %w", guid, err)
	}
	for _, x := range ids {
		if x.Context == "." || x.Context == "" {
			id = x.ID
		}
	}
	if id == 0 {
		return 0, Schema{}, fmt.Errorf("schema guid %s has no id in the default context", guid)
	}
	c.mu.Lock()
	c.byGUID[guid] = id
	c.byID[id] = s
	c.mu.Unlock()
	return id, s, nil
}

// Version returns version n of subject; n = -1 (or 0) is the latest
// version. Numbered versions are cached; the latest is asked each time, as
// it moves.
func (c *Client) Version(ctx context.Context, subject string, n int) (SubjectVersion, error) {
	v := "latest"
	if n > 0 {
		v = fmt.Sprint(n)
		c.mu.Lock()
		sv, ok := c.versions[subjectVersion{subject, n}]
		c.mu.Unlock()
		if ok {
			return sv, nil
		}
	}
	var out SubjectVersion
	if err := c.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/"+v, nil, &out); err != nil {
		return SubjectVersion{}, fmt.Errorf("fetch subject %q version %s: %w", subject, v, err)
	}
	c.mu.Lock()
	c.byID[out.ID] = out.Schema
	c.versions[subjectVersion{subject, out.Version}] = out
	c.mu.Unlock()
	return out, nil
}

// LatestWithMetadata returns the newest version of subject whose metadata
// properties hold every pair of props (not cached).
func (c *Client) LatestWithMetadata(ctx context.Context, subject string, props map[string]string) (SubjectVersion, error) {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	q := url.Values{}
	for _, k := range keys {
		q.Add("key", k)
		q.Add("value", props[k])
	}
	var out SubjectVersion
	if err := c.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/metadata?"+q.Encode(), nil, &out); err != nil {
		return SubjectVersion{}, fmt.Errorf("fetch the latest version of subject %q with metadata %v: %w", subject, props, err)
	}
	c.mu.Lock()
	c.byID[out.ID] = out.Schema
	c.mu.Unlock()
	return out, nil
}

type subjectVersion struct {
	subject string
	version int
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
	if s.GUID != "" {
		c.byGUID[s.GUID] = id
	}
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

// BaseURL is the registry's URL.
func (c *Client) BaseURL() string { return c.base }

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
