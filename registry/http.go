package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ContentType is the registry's response content type.
const ContentType = "application/vnd.schemaregistry.v1+json"

// acceptedTypes are the request content types Confluent's server accepts.
var acceptedTypes = map[string]bool{
	"application/vnd.schemaregistry.v1+json": true,
	"application/vnd.schemaregistry+json":    true,
	"application/json":                       true,
	"application/octet-stream":               true,
}

// Handler serves Confluent's Schema Registry REST API. Mount it at the root
// of its own listener (default :8081) or under a prefix with
// http.StripPrefix.
func (r *Registry) Handler() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, f func(w http.ResponseWriter, req *http.Request) (any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, req *http.Request) {
			v, err := f(w, req)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
	}
	h("GET /{$}", func(http.ResponseWriter, *http.Request) (any, error) { return struct{}{}, nil })
	h("POST /{$}", func(http.ResponseWriter, *http.Request) (any, error) { return struct{}{}, nil })
	h("GET /schemas/types", func(http.ResponseWriter, *http.Request) (any, error) {
		return []string{TypeJSON, TypeProtobuf, TypeAvro}, nil
	})
	h("GET /schemas", r.handleListSchemas)
	h("GET /contexts", func(http.ResponseWriter, *http.Request) (any, error) { return []string{"."}, nil })
	h("GET /schemas/ids/{id}", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		sv, err := r.byIDArg(req)
		if err != nil {
			return nil, err
		}
		out := schemaByIDResponse{Schema: sv.Schema, SchemaType: sv.SchemaType, References: sv.References,
			Metadata: sv.Metadata, RuleSet: sv.RuleSet, GUID: sv.GUID}
		if boolParam(req.URL.Query().Get("fetchMaxId")) {
			n := r.MaxID()
			out.MaxID = &n
		}
		return out, nil
	})
	h("GET /schemas/guids/{guid}", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		sv, err := r.SchemaByGUID(req.PathValue("guid"))
		if err != nil {
			return nil, err
		}
		return schemaByIDResponse{Schema: sv.Schema, SchemaType: sv.SchemaType, References: sv.References,
			Metadata: sv.Metadata, RuleSet: sv.RuleSet, GUID: sv.GUID}, nil
	})
	h("GET /schemas/guids/{guid}/ids", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		sv, err := r.SchemaByGUID(req.PathValue("guid"))
		if err != nil {
			return nil, err
		}
		// One context (the default) holds every schema here.
		return []contextID{{Context: ".", ID: sv.ID}}, nil
	})
	mux.HandleFunc("GET /schemas/ids/{id}/schema", func(w http.ResponseWriter, req *http.Request) {
		sv, err := r.byIDArg(req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeRaw(w, sv.Schema)
	})
	h("GET /schemas/ids/{id}/subjects", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		svs, err := r.versionsByIDArg(req)
		if err != nil {
			return nil, err
		}
		out := []string{}
		for _, sv := range svs {
			if len(out) == 0 || out[len(out)-1] != sv.Subject {
				out = append(out, sv.Subject)
			}
		}
		return out, nil
	})
	h("GET /schemas/ids/{id}/versions", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		svs, err := r.versionsByIDArg(req)
		if err != nil {
			return nil, err
		}
		type sv struct {
			Subject string `json:"subject"`
			Version int    `json:"version"`
		}
		out := []sv{}
		for _, s := range svs {
			out = append(out, sv{s.Subject, s.Version})
		}
		return out, nil
	})
	h("GET /subjects", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		q := req.URL.Query()
		return page(r.Subjects(q.Get("subjectPrefix"), boolParam(q.Get("deleted")), boolParam(q.Get("deletedOnly"))), req)
	})
	h("POST /subjects/{subject}", func(w http.ResponseWriter, req *http.Request) (any, error) {
		body, err := r.readSchemaRequest(w, req)
		if err != nil {
			return nil, err
		}
		q := req.URL.Query()
		return r.Lookup(req.PathValue("subject"), body, boolParam(q.Get("normalize")), boolParam(q.Get("deleted")))
	})
	h("DELETE /subjects/{subject}", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		return r.DeleteSubject(req.Context(), req.PathValue("subject"), boolParam(req.URL.Query().Get("permanent")))
	})
	h("GET /subjects/{subject}/versions", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		q := req.URL.Query()
		vs, err := r.Versions(req.PathValue("subject"), boolParam(q.Get("deleted")), boolParam(q.Get("deletedOnly")))
		if err != nil {
			return nil, err
		}
		return page(vs, req)
	})
	h("POST /subjects/{subject}/versions", func(w http.ResponseWriter, req *http.Request) (any, error) {
		body, err := r.readSchemaRequest(w, req)
		if err != nil {
			return nil, err
		}
		sv, err := r.RegisterVersion(req.Context(), req.PathValue("subject"), body, boolParam(req.URL.Query().Get("normalize")))
		if err != nil {
			return nil, err
		}
		// Newer Confluent servers answer the whole schema besides the id;
		// older clients read only "id".
		return registerResponse{ID: sv.ID, Version: sv.Version, GUID: sv.GUID, SchemaType: sv.SchemaType,
			References: sv.References, Metadata: sv.Metadata, RuleSet: sv.RuleSet, Schema: sv.Schema}, nil
	})
	h("GET /subjects/{subject}/metadata", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		q := req.URL.Query()
		keys, values := q["key"], q["value"]
		if len(keys) != len(values) {
			return nil, errf(http.StatusUnprocessableEntity, 42201, "Give as many value parameters as key parameters")
		}
		props := map[string]string{}
		for i, k := range keys {
			props[k] = values[i]
		}
		return r.LatestWithMetadata(req.PathValue("subject"), props, boolParam(q.Get("deleted")))
	})
	h("GET /subjects/{subject}/versions/{version}", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		return r.versionArg(req)
	})
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", func(w http.ResponseWriter, req *http.Request) {
		sv, err := r.versionArg(req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeRaw(w, sv.Schema)
	})
	h("GET /subjects/{subject}/versions/{version}/referencedby", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		n, err := versionArg(req.PathValue("version"))
		if err != nil {
			return nil, err
		}
		ids, err := r.ReferencedBy(req.PathValue("subject"), n)
		if err != nil {
			return nil, err
		}
		return page(ids, req)
	})
	h("DELETE /subjects/{subject}/versions/{version}", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		n, err := versionArg(req.PathValue("version"))
		if err != nil {
			return nil, err
		}
		return r.DeleteVersion(req.Context(), req.PathValue("subject"), n, boolParam(req.URL.Query().Get("permanent")))
	})
	compat := func(w http.ResponseWriter, req *http.Request) (any, error) {
		n := 0
		if vs := req.PathValue("version"); vs != "" {
			var err error
			if n, err = versionArg(vs); err != nil {
				return nil, err
			}
		}
		body, err := r.readSchemaRequest(w, req)
		if err != nil {
			return nil, err
		}
		q := req.URL.Query()
		msgs, err := r.Compatible(req.PathValue("subject"), n, body, boolParam(q.Get("normalize")))
		if err != nil {
			return nil, err
		}
		resp := compatResponse{IsCompatible: len(msgs) == 0}
		if boolParam(q.Get("verbose")) {
			if msgs == nil {
				msgs = []string{}
			}
			resp.Messages = msgs
		}
		return resp, nil
	}
	h("POST /compatibility/subjects/{subject}/versions/{version}", compat)
	h("POST /compatibility/subjects/{subject}/versions", compat)

	for _, p := range []string{"/config", "/config/{subject}"} {
		h("GET "+p, func(_ http.ResponseWriter, req *http.Request) (any, error) {
			return r.GetConfig(req.PathValue("subject"), boolParam(req.URL.Query().Get("defaultToGlobal")))
		})
		h("PUT "+p, func(w http.ResponseWriter, req *http.Request) (any, error) {
			var body configResponse
			if err := r.readJSON(w, req, &body); err != nil {
				return nil, err
			}
			c, err := r.SetConfig(req.Context(), req.PathValue("subject"), Config{CompatibilityLevel: body.Compatibility,
				Normalize: body.Normalize, CompatibilityGroup: body.CompatibilityGroup,
				DefaultMetadata: body.DefaultMetadata, OverrideMetadata: body.OverrideMetadata,
				DefaultRuleSet: body.DefaultRuleSet, OverrideRuleSet: body.OverrideRuleSet})
			if err != nil {
				return nil, err
			}
			return configResponse{Compatibility: c.CompatibilityLevel, Normalize: c.Normalize, CompatibilityGroup: c.CompatibilityGroup,
				DefaultMetadata: c.DefaultMetadata, OverrideMetadata: c.OverrideMetadata,
				DefaultRuleSet: c.DefaultRuleSet, OverrideRuleSet: c.OverrideRuleSet}, nil
		})
		h("DELETE "+p, func(_ http.ResponseWriter, req *http.Request) (any, error) {
			return r.DeleteConfig(req.Context(), req.PathValue("subject"))
		})
	}
	for _, p := range []string{"/mode", "/mode/{subject}"} {
		h("GET "+p, func(_ http.ResponseWriter, req *http.Request) (any, error) {
			m, err := r.GetMode(req.PathValue("subject"), boolParam(req.URL.Query().Get("defaultToGlobal")))
			return modeValue{Mode: m}, err
		})
		h("PUT "+p, func(w http.ResponseWriter, req *http.Request) (any, error) {
			var body modeValue
			if err := r.readJSON(w, req, &body); err != nil {
				return nil, err
			}
			m, err := r.SetMode(req.Context(), req.PathValue("subject"), body.Mode, boolParam(req.URL.Query().Get("force")))
			return modeValue{Mode: m}, err
		})
	}
	h("DELETE /mode/{subject}", func(_ http.ResponseWriter, req *http.Request) (any, error) {
		m, err := r.DeleteMode(req.Context(), req.PathValue("subject"))
		return modeValue{Mode: m}, err
	})

	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, pattern := mux.Handler(req)
		if writeRoutes[pattern] && r.s.elect != nil {
			url, self, err := r.writerFor(req.Context())
			if err != nil {
				writeError(w, err)
				return
			}
			if !self {
				r.forward(w, req, url)
				return
			}
		}
		if pattern == "" {
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
				alt := req.Clone(req.Context())
				alt.Method = m
				if _, p := mux.Handler(alt); p != "" {
					writeJSON(w, http.StatusMethodNotAllowed, errorBody{Code: http.StatusMethodNotAllowed, Message: "HTTP 405 Method Not Allowed"})
					return
				}
			}
			writeJSON(w, http.StatusNotFound, errorBody{Code: http.StatusNotFound, Message: "HTTP 404 Not Found"})
			return
		}
		mux.ServeHTTP(w, req)
	})
}

// writeRoutes change state: with a writer election, a follower forwards
// them to the writer.
var writeRoutes = map[string]bool{
	"POST /subjects/{subject}/versions":             true,
	"DELETE /subjects/{subject}":                    true,
	"DELETE /subjects/{subject}/versions/{version}": true,
	"PUT /config":              true,
	"PUT /config/{subject}":    true,
	"DELETE /config":           true,
	"DELETE /config/{subject}": true,
	"PUT /mode":                true,
	"PUT /mode/{subject}":      true,
	"DELETE /mode/{subject}":   true,
}

// forwardedHeader marks a request a follower forwarded, so that it is never
// forwarded twice.
const forwardedHeader = "X-Sluice-Forwarded"

// electionWait bounds how long a write request waits for a writer while an
// election is in progress.
const electionWait = 10 * time.Second

// writerFor returns where a write request goes: this node (self) or the
// writer's URL. During an election (no writer, or only this node's own
// stale announcement) it waits up to electionWait.
func (r *Registry) writerFor(ctx context.Context) (url string, self bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, electionWait)
	defer cancel()
	own := r.s.elect.url
	werr := r.awaitElection(ctx, func() bool {
		self = r.IsWriter()
		url = r.s.writerURL()
		return self || url != "" && url != own
	})
	if werr != nil {
		return "", false, errUnknownLeader("Unknown leader: no schema registry writer was elected within %s; retry", electionWait)
	}
	return url, self, nil
}

// forward sends a write request to the elected writer and relays its
// answer, as Confluent's followers do.
func (r *Registry) forward(w http.ResponseWriter, req *http.Request, url string) {
	if req.Header.Get(forwardedHeader) != "" {
		writeError(w, errForwarding("Request forwarded to %s, which is not the writer (a new writer is being elected); retry", req.Host))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, errSchemaTooLarge(r.maxBody))
			return
		}
		writeError(w, errf(http.StatusBadRequest, http.StatusBadRequest, "reading the request body: %v", err))
		return
	}
	target := strings.TrimRight(url, "/") + req.URL.Path
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	out, err := http.NewRequestWithContext(req.Context(), req.Method, target, bytes.NewReader(body))
	if err != nil {
		writeError(w, errForwarding("Error while forwarding the request to the leader %s: %v", url, err))
		return
	}
	for _, h := range []string{"Content-Type", "Accept", "Authorization"} {
		if v := req.Header.Get(h); v != "" {
			out.Header.Set(h, v)
		}
	}
	out.Header.Set(forwardedHeader, "1")
	res, err := r.forwardClient.Do(out)
	if err != nil {
		writeError(w, errForwarding("Error while forwarding the request to the leader %s: %v", url, err))
		return
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		writeError(w, errForwarding("Error while reading the answer of the leader %s: %v", url, err))
		return
	}
	// Read-your-writes on this node too: catch up with the topic before
	// answering, so a read sent here next sees the change.
	if res.StatusCode/100 == 2 {
		if err := r.s.sync(req.Context()); err != nil {
			r.logger.Warn("schema registry: catching up after a forwarded write", "err", err)
		}
	}
	if ct := res.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(res.StatusCode)
	w.Write(answer)
}

type schemaByIDResponse struct {
	Schema     string          `json:"schema"`
	SchemaType string          `json:"schemaType,omitempty"`
	References []Reference     `json:"references,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	RuleSet    json.RawMessage `json:"ruleSet,omitempty"`
	GUID       string          `json:"guid,omitempty"`
	MaxID      *int            `json:"maxId,omitempty"` // with fetchMaxId=true
}

type registerResponse struct {
	ID         int             `json:"id"`
	Version    int             `json:"version,omitempty"`
	GUID       string          `json:"guid,omitempty"`
	SchemaType string          `json:"schemaType,omitempty"`
	References []Reference     `json:"references,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	RuleSet    json.RawMessage `json:"ruleSet,omitempty"`
	Schema     string          `json:"schema,omitempty"`
}

type contextID struct {
	Context string `json:"context"`
	ID      int    `json:"id"`
}

type compatResponse struct {
	IsCompatible bool `json:"is_compatible"`
	Messages     any  `json:"messages,omitempty"` // []string, only with verbose
}

// configResponse is the body of PUT /config and its answer.
type configResponse struct {
	Compatibility      string          `json:"compatibility"`
	Normalize          *bool           `json:"normalize,omitempty"`
	CompatibilityGroup string          `json:"compatibilityGroup,omitempty"`
	DefaultMetadata    json.RawMessage `json:"defaultMetadata,omitempty"`
	OverrideMetadata   json.RawMessage `json:"overrideMetadata,omitempty"`
	DefaultRuleSet     json.RawMessage `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet    json.RawMessage `json:"overrideRuleSet,omitempty"`
}

type errorBody struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (r *Registry) handleListSchemas(_ http.ResponseWriter, req *http.Request) (any, error) {
	q := req.URL.Query()
	deleted, latestOnly := boolParam(q.Get("deleted")), boolParam(q.Get("latestOnly"))
	out := []SubjectVersion{}
	for _, s := range r.Subjects(q.Get("subjectPrefix"), deleted, false) {
		vs, err := r.Versions(s, deleted, false)
		if err != nil {
			continue
		}
		if latestOnly && len(vs) > 0 {
			vs = vs[len(vs)-1:]
		}
		for _, n := range vs {
			if sv, err := r.Version(s, n, deleted); err == nil {
				out = append(out, sv)
			}
		}
	}
	return page(out, req)
}

func (r *Registry) byIDArg(req *http.Request) (SubjectVersion, error) {
	id, err := strconv.Atoi(req.PathValue("id"))
	if err != nil || id <= 0 {
		return SubjectVersion{}, errSchemaIDNotFound(id)
	}
	return r.SchemaByID(id)
}

func (r *Registry) versionsByIDArg(req *http.Request) ([]SubjectVersion, error) {
	id, err := strconv.Atoi(req.PathValue("id"))
	if err != nil || id <= 0 {
		return nil, errSchemaIDNotFound(id)
	}
	svs, err := r.VersionsByID(id, boolParam(req.URL.Query().Get("deleted")))
	if err != nil {
		return nil, err
	}
	if s := req.URL.Query().Get("subject"); s != "" {
		var f []SubjectVersion
		for _, sv := range svs {
			if sv.Subject == s {
				f = append(f, sv)
			}
		}
		svs = f
	}
	return svs, nil
}

func (r *Registry) versionArg(req *http.Request) (SubjectVersion, error) {
	n, err := versionArg(req.PathValue("version"))
	if err != nil {
		return SubjectVersion{}, err
	}
	return r.Version(req.PathValue("subject"), n, boolParam(req.URL.Query().Get("deleted")))
}

func (r *Registry) readSchemaRequest(w http.ResponseWriter, req *http.Request) (SchemaRequest, error) {
	var body SchemaRequest
	err := r.readJSON(w, req, &body)
	return body, err
}

// readJSON checks the content type and decodes a bounded body into v.
func (r *Registry) readJSON(w http.ResponseWriter, req *http.Request, v any) error {
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !acceptedTypes[mt] {
			return errf(http.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType,
				"HTTP 415 Unsupported Media Type: use %s or application/json", ContentType)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errSchemaTooLarge(r.maxBody)
		}
		return errf(http.StatusBadRequest, http.StatusBadRequest, "reading the request body: %v", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errf(http.StatusUnprocessableEntity, 42201, "Invalid request body: %v", err)
	}
	return nil
}

func boolParam(s string) bool {
	b, _ := strconv.ParseBool(s)
	return b
}

// page applies the offset and limit query parameters to a list.
func page[T any](list []T, req *http.Request) ([]T, error) {
	q := req.URL.Query()
	off, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if off > 0 {
		if off >= len(list) {
			return []T{}, nil
		}
		list = list[off:]
	}
	if limit > 0 && limit < len(list) {
		list = list[:limit]
	}
	return list, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeRaw(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", ContentType)
	io.WriteString(w, s)
}

func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errStore(err)
	}
	writeJSON(w, e.Status, errorBody{Code: e.Code, Message: e.Message})
}
