package rest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Version is the ksqlDB version Sluice reports in /info; clients check it
// to pick API features.
const Version = "0.29.0"

// Server is the ksqlDB REST API over a Backend.
type Server struct {
	backend Backend
	log     *slog.Logger
	mux     *http.ServeMux

	mu      sync.Mutex
	streams map[string]*Stream // /query-stream queries by id, for /close-query
}

// New returns the API handler.
func New(b Backend, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{backend: b, log: log, mux: http.NewServeMux(), streams: map[string]*Stream{}}
	s.mux.HandleFunc("POST /ksql", s.handleKSQL)
	s.mux.HandleFunc("POST /query", s.handleQuery)
	s.mux.HandleFunc("POST /query-stream", s.handleQueryStream)
	s.mux.HandleFunc("POST /close-query", s.handleCloseQuery)
	s.mux.HandleFunc("POST /inserts-stream", s.handleInsertsStream)
	s.mux.HandleFunc("GET /info", s.handleInfo)
	s.mux.HandleFunc("GET /healthcheck", s.handleHealth)
	s.mux.HandleFunc("GET /chc/live", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]any{}) })
	s.mux.HandleFunc("GET /chc/ready", s.handleReady)
	s.mux.HandleFunc("GET /status", s.handleStatuses)
	s.mux.HandleFunc("GET /status/{type}/{entity}/{action}", s.handleStatus)
	s.mux.HandleFunc("GET /is_valid_property/{name}", s.handleValidProperty)
	return s
}

// ServeHTTP implements http.Handler. /query-stream, the endpoint of pull
// queries, skips the mux's pattern matching.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/query-stream" {
		s.handleQueryStream(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve answers on l with HTTP/1.1 and cleartext HTTP/2 (h2c, as ksqlDB's
// Java client uses for /query-stream) until ctx ends. When the backend
// answers key lookups at once (KeyLookupBackend), HTTP/1.1 connections
// start on the key-lookup path (h1.go) and go to net/http at the first
// other request.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: s, Protocols: &protocols, ReadHeaderTimeout: readHeaderTimeout}
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		srv.Close()
	}
	fast, ok := s.backend.(KeyLookupBackend)
	if !ok {
		go func() {
			<-ctx.Done()
			shutdown()
		}()
		err := srv.Serve(l)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
	hl := &handoffListener{addr: l.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	conns := &h1Conns{}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(hl) }()
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stop:
		}
		l.Close()
	}()
	err := s.acceptLoop(ctx, l, fast, conns, hl)
	close(stop)
	conns.shutdown()
	shutdown()
	hl.Close()
	if herr := <-httpDone; err == nil && !errors.Is(herr, http.ErrServerClosed) {
		err = herr
	}
	return err
}

// contentType answers in the media type the client asked for: ksqlDB's own
// or plain JSON.
func contentType(r *http.Request) string {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		return "application/json"
	}
	return "application/vnd.ksql.v1+json"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers err in ksqlDB's error shape.
func writeError(w http.ResponseWriter, err error, statement string) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: 500, Code: 50000, Message: err.Error()}
	}
	body := map[string]any{"@type": "generic_error", "error_code": e.Code, "message": e.Message}
	if e.Code == 40001 || e.StatementText != "" {
		body["@type"] = "statement_error"
		st := e.StatementText
		if st == "" {
			st = statement
		}
		body["statementText"] = st
		body["entities"] = []any{}
	}
	writeJSON(w, e.Status, body)
}

func badRequest(msg string) *Error { return &Error{Status: 400, Code: 40000, Message: msg} }

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 32<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badRequest("Invalid JSON in request: " + err.Error())
	}
	return nil
}

var queryStmt = regexp.MustCompile(`(?is)^\s*(SELECT|PRINT)\b`)

func (s *Server) handleKSQL(w http.ResponseWriter, r *http.Request) {
	var req Request
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err, "")
		return
	}
	if strings.TrimSpace(req.KSQL) == "" {
		writeError(w, badRequest("\"ksql\" field must be populated"), "")
		return
	}
	if queryStmt.MatchString(req.KSQL) && !strings.Contains(strings.ToUpper(req.KSQL), "CREATE") && !strings.Contains(strings.ToUpper(req.KSQL), "INSERT") {
		writeError(w, &Error{Status: 400, Code: 40002, StatementText: req.KSQL,
			Message: "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT"}, req.KSQL)
		return
	}
	entities, err := s.backend.Execute(r.Context(), &req)
	if err != nil {
		writeError(w, err, req.KSQL)
		return
	}
	if entities == nil {
		entities = []any{}
	}
	w.Header().Set("Content-Type", contentType(r))
	writeJSON(w, 200, entities)
}

// handleQuery streams a query's rows as ksqlDB's /query does: a JSON array
// written chunk by chunk, a header first, one row object per line, a final
// message when LIMIT ends it.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	var req Request
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err, "")
		return
	}
	st, err := s.backend.Query(r.Context(), &req)
	if err != nil {
		writeError(w, err, req.KSQL)
		return
	}
	defer st.Close()
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil && !st.Complete {
			flusher.Flush()
		}
	}
	if st.Text {
		s.writeText(w, r, st, flush)
		return
	}
	w.Header().Set("Content-Type", contentType(r))
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(200)
	header, _ := json.Marshal(map[string]any{"header": map[string]any{"queryId": st.QueryID, "schema": schemaText(st.ColumnNames, st.ColumnTypes)}})
	fmt.Fprintf(w, "[%s", header)
	flush()
	for {
		select {
		case row, ok := <-st.Rows:
			if !ok {
				if err := st.Err(); err != nil {
					b, _ := json.Marshal(map[string]any{"errorMessage": map[string]any{"@type": "generic_error", "error_code": 50000, "message": err.Error()}})
					fmt.Fprintf(w, ",\n%s", b)
				} else if st.LimitReached() {
					fmt.Fprint(w, ",\n{\"finalMessage\":\"Limit Reached\"}")
				}
				fmt.Fprint(w, "]\n")
				flush()
				return
			}
			fmt.Fprintf(w, ",\n{\"row\":{\"columns\":%s}}", row)
			flush()
		case <-r.Context().Done():
			return
		}
	}
}

// writeText streams a PRINT's lines as they come.
func (s *Server) writeText(w http.ResponseWriter, r *http.Request, st *Stream, flush func()) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(200)
	for {
		select {
		case line, ok := <-st.Rows:
			if !ok {
				return
			}
			fmt.Fprintf(w, "%s\n", line)
			flush()
		case <-r.Context().Done():
			return
		}
	}
}

// schemaText prints columns as ksqlDB's /query header does:
// "`ID` INTEGER, `NAME` STRING".
func schemaText(names, types []string) string {
	parts := make([]string, len(names))
	for i := range names {
		parts[i] = "`" + names[i] + "` " + types[i]
	}
	return strings.Join(parts, ", ")
}

// queryStreamRequest is /query-stream's body.
type queryStreamRequest struct {
	SQL              string         `json:"sql"`
	Properties       map[string]any `json:"properties"`
	SessionVariables map[string]any `json:"sessionVariables"`
}

// decodeQueryStream reads /query-stream's body. A body of known length
// that is just {"sql": "<text without escapes>"} (what clients of key
// lookups send) is read without encoding/json; anything else is decoded as
// decodeBody does, with its errors.
func decodeQueryStream(r *http.Request) (queryStreamRequest, error) {
	var qs queryStreamRequest
	if n := r.ContentLength; n <= 0 || n > 64<<10 {
		return qs, decodeBody(r, &qs)
	}
	buf := requestBuffers.Get().(*[]byte)
	defer requestBuffers.Put(buf)
	if int64(cap(*buf)) < r.ContentLength {
		*buf = make([]byte, r.ContentLength)
	}
	b := (*buf)[:r.ContentLength]
	if _, err := io.ReadFull(r.Body, b); err != nil {
		return qs, badRequest("Invalid JSON in request: " + err.Error())
	}
	if sql, ok := onlySQL(b); ok {
		qs.SQL = sql
		return qs, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&qs); err != nil {
		return qs, badRequest("Invalid JSON in request: " + err.Error())
	}
	return qs, nil
}

// requestBuffers hold /query-stream bodies while they are decoded.
var requestBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// onlySQL reads a JSON object whose one member is "sql" with a string that
// has no escapes, no control characters and valid UTF-8, and returns the
// string; false for anything else (encoding/json then decides).
func onlySQL(b []byte) (string, bool) {
	i := skipSpace(b, 0)
	const open = `"sql"`
	if i >= len(b) || b[i] != '{' {
		return "", false
	}
	i = skipSpace(b, i+1)
	if !bytes.HasPrefix(b[i:], []byte(open)) {
		return "", false
	}
	i = skipSpace(b, i+len(open))
	if i >= len(b) || b[i] != ':' {
		return "", false
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return "", false
	}
	start := i + 1
	ascii := true
	for i = start; i < len(b) && b[i] != '"'; i++ {
		switch c := b[i]; {
		case c < 0x20 || c == '\\':
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	if i >= len(b) {
		return "", false
	}
	s := b[start:i]
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '}' || skipSpace(b, i+1) != len(b) {
		return "", false
	}
	if !ascii && !utf8.Valid(s) {
		return "", false
	}
	return string(s), true
}

// skipSpace returns the offset of the first byte from i that is not JSON
// white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// handleQueryStream serves /query-stream: with Accept application/json a
// JSON array (metadata object, then row arrays); otherwise ksqlDB's
// delimited format (metadata line, then one JSON array per line).
func (s *Server) handleQueryStream(w http.ResponseWriter, r *http.Request) {
	qs, err := decodeQueryStream(r)
	if err != nil {
		writeError(w, err, "")
		return
	}
	req := &Request{KSQL: qs.SQL, StreamsProperties: qs.Properties, SessionVariables: qs.SessionVariables}
	st, err := s.backend.Query(r.Context(), req)
	if err != nil {
		writeError(w, err, qs.SQL)
		return
	}
	s.mu.Lock()
	s.streams[st.QueryID] = st
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, st.QueryID)
		s.mu.Unlock()
		st.Close()
	}()
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	if asJSON {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/vnd.ksqlapi.delimited.v1")
	}
	w.WriteHeader(200)
	if st.Complete {
		// The whole answer in one buffer and one write, flushed when the
		// handler returns.
		buf := responseBuffers.Get().(*[]byte)
		b, done := appendQueryStream((*buf)[:0], r.Context(), st, asJSON)
		if done {
			w.Write(b)
		}
		if cap(b) <= maxPooledBuffer {
			*buf = b[:0]
			responseBuffers.Put(buf)
		}
		return
	}
	flusher, _ := w.(http.Flusher)
	meta := appendMeta(nil, st)
	if asJSON {
		w.Write(append([]byte{'['}, meta...))
	} else {
		w.Write(append(meta, '\n'))
	}
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case row, ok := <-st.Rows:
			if !ok {
				w.Write(appendQueryStreamEnd(nil, st, asJSON))
				return
			}
			if asJSON {
				fmt.Fprintf(w, ",%s", row)
			} else {
				fmt.Fprintf(w, "%s\n", row)
			}
			if flusher != nil {
				flusher.Flush()
			}
		case <-r.Context().Done():
			return
		}
	}
}

// appendQueryStream appends a complete stream's answer: metadata, every
// row, the end. It returns false if the client went away first.
func appendQueryStream(b []byte, ctx context.Context, st *Stream, asJSON bool) ([]byte, bool) {
	if asJSON {
		b = append(b, '[')
	}
	b = appendMeta(b, st)
	if !asJSON {
		b = append(b, '\n')
	}
	for {
		select {
		case row, ok := <-st.Rows:
			if !ok {
				return appendQueryStreamEnd(b, st, asJSON), true
			}
			if asJSON {
				b = append(b, ',')
				b = append(b, row...)
			} else {
				b = append(b, row...)
				b = append(b, '\n')
			}
		case <-ctx.Done():
			return b, false
		}
	}
}

// appendQueryStreamEnd appends what follows the last row: the error if the
// query failed, and the array's end in JSON.
func appendQueryStreamEnd(b []byte, st *Stream, asJSON bool) []byte {
	if err := st.Err(); err != nil {
		e, _ := json.Marshal(map[string]any{"@type": "generic_error", "error_code": 50000, "message": err.Error()})
		if asJSON {
			b = append(b, ',')
			b = append(b, e...)
		} else {
			b = append(b, e...)
			b = append(b, '\n')
		}
	}
	if asJSON {
		b = append(b, ']')
	}
	return b
}

// appendMeta appends /query-stream's metadata object, the bytes of
// json.Marshal of map[string]any{"queryId": ..., "columnNames": ...,
// "columnTypes": ...} (keys sorted, as encoding/json writes maps).
func appendMeta(b []byte, st *Stream) []byte {
	b = append(b, `{"columnNames":`...)
	b = appendJSONStrings(b, st.ColumnNames)
	b = append(b, `,"columnTypes":`...)
	b = appendJSONStrings(b, st.ColumnTypes)
	b = append(b, `,"queryId":`...)
	b = appendJSONString(b, st.QueryID)
	return append(b, '}')
}

// appendJSONStrings appends ss as encoding/json marshals a []string.
func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s as encoding/json marshals a string: printable
// ASCII that needs no escape as it is, anything else through json.Marshal
// (its escapes of HTML characters, control characters, U+2028/9 and
// invalid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// responseBuffers hold complete /query-stream answers while they are
// written; larger ones than maxPooledBuffer are left to the collector.
var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledBuffer = 64 << 10

func (s *Server) handleCloseQuery(w http.ResponseWriter, r *http.Request) {
	var req struct {
		QueryID string `json:"queryId"`
	}
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err, "")
		return
	}
	s.mu.Lock()
	st := s.streams[req.QueryID]
	s.mu.Unlock()
	if st == nil {
		writeError(w, badRequest("No query with id "+req.QueryID), "")
		return
	}
	st.Close()
	w.WriteHeader(200)
}

// handleInsertsStream reads a target line then one JSON object per line and
// acknowledges each row by sequence number, as ksqlDB does.
func (s *Server) handleInsertsStream(w http.ResponseWriter, r *http.Request) {
	br := bufio.NewReader(r.Body)
	dec := json.NewDecoder(br)
	dec.UseNumber()
	var target struct {
		Target string `json:"target"`
	}
	if err := dec.Decode(&target); err != nil || target.Target == "" {
		writeError(w, badRequest("Invalid JSON in inserts stream: the first object must be {\"target\": \"<stream>\"}"), "")
		return
	}
	w.Header().Set("Content-Type", "application/vnd.ksqlapi.delimited.v1")
	w.WriteHeader(200)
	flusher, _ := w.(http.Flusher)
	for seq := 0; ; seq++ {
		var row map[string]any
		err := dec.Decode(&row)
		if err == io.EOF {
			return
		}
		var ack map[string]any
		switch {
		case err != nil:
			ack = map[string]any{"status": "error", "seq": seq, "error_code": 40000, "message": "Invalid JSON in inserts stream: " + err.Error()}
		default:
			if ierr := s.backend.Insert(r.Context(), target.Target, row); ierr != nil {
				code := 40000
				var e *Error
				if errors.As(ierr, &e) {
					code = e.Code
				}
				ack = map[string]any{"status": "error", "seq": seq, "error_code": code, "message": ierr.Error()}
			} else {
				ack = map[string]any{"status": "ok", "seq": seq}
			}
		}
		b, _ := json.Marshal(ack)
		fmt.Fprintf(w, "%s\n", b)
		if flusher != nil {
			flusher.Flush()
		}
		if err != nil {
			return // the stream cannot be resynchronised after bad JSON
		}
	}
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"KsqlServerInfo": map[string]any{
		"version": Version, "kafkaClusterId": s.backend.ClusterID(), "ksqlServiceId": s.backend.ServiceID(), "serverStatus": "RUNNING"}})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	meta, kafka, runner := s.backend.Healthy(r.Context())
	status := 200
	if !(meta && kafka && runner) {
		status = 503
	}
	writeJSON(w, status, map[string]any{"isHealthy": meta && kafka && runner, "details": map[string]any{
		"metastore": map[string]bool{"isHealthy": meta}, "kafka": map[string]bool{"isHealthy": kafka},
		"commandRunner": map[string]bool{"isHealthy": runner}}})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	meta, kafka, runner := s.backend.Healthy(r.Context())
	if meta && kafka && runner {
		writeJSON(w, 200, map[string]any{"isHealthy": true})
		return
	}
	writeJSON(w, 503, map[string]any{"isHealthy": false})
}

func (s *Server) handleStatuses(w http.ResponseWriter, _ *http.Request) {
	out := map[string]string{}
	for id, st := range s.backend.Statuses() {
		out[id] = st.Status
	}
	writeJSON(w, 200, map[string]any{"commandStatuses": out})
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("type") + "/" + r.PathValue("entity") + "/" + r.PathValue("action")
	st, ok := s.backend.Statuses()[id]
	if !ok {
		writeJSON(w, 404, map[string]any{"@type": "generic_error", "error_code": 40400, "message": "Command not found: " + id})
		return
	}
	writeJSON(w, 200, st)
}

func (s *Server) handleValidProperty(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.backend.ValidProperty(name) {
		writeError(w, badRequest("Not recognizable as ksql, streams, consumer, or producer property: '"+name+"'"), "")
		return
	}
	writeJSON(w, 200, true)
}
