// Package rest serves Kafka Connect's REST API (paths, bodies and status
// codes as Apache Kafka's ConnectorsResource and ConnectorPluginsResource)
// over a connect/runtime Worker.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/runtime"
)

// Options describe the server in GET /.
type Options struct {
	Version string // default "3.9.0"
	Commit  string
	Logger  *slog.Logger
	// RequestTimeout bounds a request's work (default 90s, Kafka's).
	RequestTimeout time.Duration
}

type server struct {
	w    *runtime.Worker
	opts Options
}

// Handler returns the REST API handler.
func Handler(w *runtime.Worker, opts Options) http.Handler {
	if opts.Version == "" {
		opts.Version = "3.9.0"
	}
	if opts.Commit == "" {
		opts.Commit = "sluice"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = 90 * time.Second
	}
	s := &server{w: w, opts: opts}
	mux := http.NewServeMux()
	h := func(pattern string, f func(http.ResponseWriter, *http.Request) error) {
		mux.HandleFunc(pattern, s.wrap(f))
	}
	h("GET /{$}", s.root)
	h("GET /connectors", s.list)
	h("POST /connectors", s.create)
	h("GET /connectors/{c}", s.get)
	h("DELETE /connectors/{c}", s.delete)
	h("GET /connectors/{c}/config", s.getConfig)
	h("PUT /connectors/{c}/config", s.putConfig)
	h("PATCH /connectors/{c}/config", s.patchConfig)
	h("GET /connectors/{c}/status", s.status)
	h("GET /connectors/{c}/tasks", s.tasks)
	h("GET /connectors/{c}/tasks/{t}/status", s.taskStatus)
	h("POST /connectors/{c}/tasks/{t}/restart", s.restartTask)
	h("POST /connectors/{c}/restart", s.restart)
	h("PUT /connectors/{c}/pause", s.pause)
	h("PUT /connectors/{c}/resume", s.resume)
	h("PUT /connectors/{c}/stop", s.stop)
	h("GET /connectors/{c}/offsets", s.offsets)
	h("PATCH /connectors/{c}/offsets", s.alterOffsets)
	h("DELETE /connectors/{c}/offsets", s.resetOffsets)
	h("GET /connectors/{c}/topics", s.topics)
	h("PUT /connectors/{c}/topics/reset", s.resetTopics)
	h("GET /connector-plugins", s.plugins)
	h("GET /connector-plugins/{p}/config", s.pluginConfig)
	h("PUT /connector-plugins/{p}/config/validate", s.validate)
	h("/", func(_ http.ResponseWriter, r *http.Request) error {
		// A path served for another method is a 405, as in Kafka Connect.
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if m == r.Method {
				continue
			}
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, pat := mux.Handler(r2); pat != "" && pat != "/" {
				return &runtime.Error{Code: http.StatusMethodNotAllowed, Message: "HTTP 405 Method Not Allowed"}
			}
		}
		return &runtime.Error{Code: http.StatusNotFound, Message: "HTTP 404 Not Found"}
	})
	return mux
}

// errorBody is Kafka Connect's ErrorMessage.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func (s *server) wrap(f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
		defer cancel()
		err := f(w, r.WithContext(ctx))
		if err == nil {
			return
		}
		var re *runtime.Error
		if !errors.As(err, &re) {
			s.opts.Logger.Error("connect rest: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			code := http.StatusInternalServerError
			if errors.Is(err, context.DeadlineExceeded) {
				code = http.StatusInternalServerError
				err = fmt.Errorf("Request timed out: %w", err)
			}
			re = &runtime.Error{Code: code, Message: err.Error()}
		}
		writeJSON(w, re.Code, errorBody{ErrorCode: re.Code, Message: re.Message})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func badRequest(format string, args ...any) error {
	return &runtime.Error{Code: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return badRequest("reading the request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("Request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("Invalid JSON in the request body: %v", err)
	}
	return nil
}

// decodeConfig reads a config map; Kafka Connect accepts JSON numbers and
// booleans as values and stores them as strings.
func decodeConfig(raw map[string]any) (connect.Config, error) {
	cfg := connect.Config{}
	for k, v := range raw {
		s, err := configString(k, v)
		if err != nil {
			return nil, err
		}
		if s != nil {
			cfg[k] = *s
		}
	}
	return cfg, nil
}

func configString(k string, v any) (*string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	case json.Number:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return nil, badRequest("Config %s must be a string, number or boolean", k)
	}
	return &s, nil
}

func decodeMap(r *http.Request) (map[string]any, error) {
	var raw map[string]any
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return nil, badRequest("reading the request body: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, badRequest("Invalid JSON in the request body: %v", err)
	}
	return raw, nil
}

func (s *server) root(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"version": s.opts.Version, "commit": s.opts.Commit, "kafka_cluster_id": s.w.ClusterID()})
	return nil
}

func (s *server) list(w http.ResponseWriter, r *http.Request) error {
	names := s.w.Connectors()
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		writeJSON(w, http.StatusOK, names)
		return nil
	}
	out := map[string]map[string]any{}
	for _, n := range names {
		e := map[string]any{}
		for _, x := range expand {
			switch x {
			case "status":
				if st, err := s.w.Status(n); err == nil {
					e["status"] = st
				}
			case "info":
				if info, err := s.w.Connector(n); err == nil {
					e["info"] = info
				}
			}
		}
		out[n] = e
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) create(w http.ResponseWriter, r *http.Request) error {
	raw, err := decodeMap(r)
	if err != nil {
		return err
	}
	name, _ := raw["name"].(string)
	name = strings.TrimSpace(name)
	cfgRaw, _ := raw["config"].(map[string]any)
	if raw["config"] != nil && cfgRaw == nil {
		return badRequest("config must be a JSON object")
	}
	cfg, err := decodeConfig(cfgRaw)
	if err != nil {
		return err
	}
	if name == "" {
		name = cfg["name"]
	}
	if name == "" {
		return badRequest("Connector name is required")
	}
	initial, _ := raw["initial_state"].(string)
	info, err := s.w.Create(r.Context(), name, cfg, initial)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/connectors/"+name)
	writeJSON(w, http.StatusCreated, info)
	return nil
}

func (s *server) get(w http.ResponseWriter, r *http.Request) error {
	info, err := s.w.Connector(r.PathValue("c"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *server) delete(w http.ResponseWriter, r *http.Request) error {
	if err := s.w.Delete(r.Context(), r.PathValue("c")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) getConfig(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.w.Config(r.PathValue("c"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cfg)
	return nil
}

func (s *server) putConfig(w http.ResponseWriter, r *http.Request) error {
	raw, err := decodeMap(r)
	if err != nil {
		return err
	}
	cfg, err := decodeConfig(raw)
	if err != nil {
		return err
	}
	name := r.PathValue("c")
	info, created, err := s.w.Put(r.Context(), name, cfg)
	if err != nil {
		return err
	}
	if created {
		w.Header().Set("Location", "/connectors/"+name)
		writeJSON(w, http.StatusCreated, info)
	} else {
		writeJSON(w, http.StatusOK, info)
	}
	return nil
}

func (s *server) patchConfig(w http.ResponseWriter, r *http.Request) error {
	raw, err := decodeMap(r)
	if err != nil {
		return err
	}
	patch := map[string]*string{}
	for k, v := range raw {
		p, err := configString(k, v)
		if err != nil {
			return err
		}
		patch[k] = p
	}
	info, err := s.w.Patch(r.Context(), r.PathValue("c"), patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *server) status(w http.ResponseWriter, r *http.Request) error {
	st, err := s.w.Status(r.PathValue("c"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) tasks(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.w.Tasks(r.PathValue("c"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

func taskParam(r *http.Request) (int, error) {
	t, err := strconv.Atoi(r.PathValue("t"))
	if err != nil {
		return 0, &runtime.Error{Code: http.StatusNotFound, Message: fmt.Sprintf("Invalid task id %q", r.PathValue("t"))}
	}
	return t, nil
}

func (s *server) taskStatus(w http.ResponseWriter, r *http.Request) error {
	t, err := taskParam(r)
	if err != nil {
		return err
	}
	st, err := s.w.TaskStatus(r.PathValue("c"), t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) restartTask(w http.ResponseWriter, r *http.Request) error {
	t, err := taskParam(r)
	if err != nil {
		return err
	}
	err = s.w.RestartTask(r.Context(), r.PathValue("c"), t)
	var no *runtime.NotOwnedError
	if errors.As(err, &no) && r.URL.Query().Get("forward") != "false" {
		return s.forward(w, r, no.WorkerID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("Query parameter %s must be true or false, not %q", name, v)
	}
	return b, nil
}

func (s *server) restart(w http.ResponseWriter, r *http.Request) error {
	includeTasks, err := boolParam(r, "includeTasks")
	if err != nil {
		return err
	}
	onlyFailed, err := boolParam(r, "onlyFailed")
	if err != nil {
		return err
	}
	st, err := s.w.Restart(r.Context(), r.PathValue("c"), includeTasks, onlyFailed)
	if err != nil {
		return err
	}
	if !includeTasks && !onlyFailed {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusAccepted, st)
	return nil
}

func (s *server) pause(w http.ResponseWriter, r *http.Request) error {
	if err := s.w.Pause(r.Context(), r.PathValue("c")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *server) resume(w http.ResponseWriter, r *http.Request) error {
	if err := s.w.Resume(r.Context(), r.PathValue("c")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *server) stop(w http.ResponseWriter, r *http.Request) error {
	if err := s.w.Stop(r.Context(), r.PathValue("c")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type offsetsBody struct {
	Offsets []runtime.Offset `json:"offsets"`
}

func (s *server) offsets(w http.ResponseWriter, r *http.Request) error {
	offs, err := s.w.Offsets(r.Context(), r.PathValue("c"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, offsetsBody{Offsets: offs})
	return nil
}

func (s *server) alterOffsets(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Offsets == nil {
		return badRequest("Partitions / offsets need to be provided in order to alter offsets")
	}
	offs := make([]runtime.Offset, 0, len(body.Offsets))
	for _, o := range body.Offsets {
		offs = append(offs, runtime.Offset{Partition: normalizeNumbers(o.Partition), Offset: normalizeNumbers(o.Offset)})
	}
	if err := s.w.AlterOffsets(r.Context(), r.PathValue("c"), offs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "The offsets for this connector have been altered successfully"})
	return nil
}

// normalizeNumbers turns whole JSON numbers into int64, as offsets are
// compared by their JSON form.
func normalizeNumbers(m map[string]any) map[string]any {
	for k, v := range m {
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			m[k] = int64(f)
		}
	}
	return m
}

func (s *server) resetOffsets(w http.ResponseWriter, r *http.Request) error {
	if err := s.w.ResetOffsets(r.Context(), r.PathValue("c")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "The offsets for this connector have been reset successfully"})
	return nil
}

func (s *server) topics(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("c")
	ts, err := s.w.Topics(name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]map[string][]string{name: {"topics": ts}})
	return nil
}

func (s *server) resetTopics(w http.ResponseWriter, r *http.Request) error {
	if err := s.w.ResetTopics(r.Context(), r.PathValue("c")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// PluginInfo is one entry of GET /connector-plugins.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version"`
}

func (s *server) plugins(w http.ResponseWriter, r *http.Request) error {
	connectorsOnly := true
	if v := r.URL.Query().Get("connectorsOnly"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("Query parameter connectorsOnly must be true or false, not %q", v)
		}
		connectorsOnly = b
	}
	out := []PluginInfo{}
	for _, p := range connect.Plugins() {
		if connectorsOnly && p.Spec.Kind != connect.SourceKind && p.Spec.Kind != connect.SinkKind {
			continue
		}
		out = append(out, PluginInfo{Class: runtime.PluginClass(p), Type: string(p.Spec.Kind), Version: p.Spec.Version})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) pluginConfig(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("p")
	p, ok := connect.Lookup(name)
	if !ok {
		return &runtime.Error{Code: http.StatusNotFound, Message: fmt.Sprintf("Unknown plugin %s.", name)}
	}
	writeJSON(w, http.StatusOK, runtime.KeyInfos(p.Spec.Fields))
	return nil
}

func (s *server) validate(w http.ResponseWriter, r *http.Request) error {
	class := r.PathValue("p")
	raw, err := decodeMap(r)
	if err != nil {
		return err
	}
	cfg, err := decodeConfig(raw)
	if err != nil {
		return err
	}
	if inc := cfg["connector.class"]; inc != "" && !sameClass(inc, class) {
		return badRequest("Included connector type %s does not match request type %s", inc, class)
	}
	cfg["connector.class"] = class
	v, err := s.w.Validate(class, cfg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// sameClass compares class names as Kafka Connect does: the request's
// short name may end the included fully qualified one.
func sameClass(included, requested string) bool {
	if included == requested {
		return true
	}
	a, okA := connect.Lookup(included)
	b, okB := connect.Lookup(requested)
	if okA && okB && a == b {
		return true
	}
	return strings.HasSuffix(strings.ToLower(included), strings.ToLower(requested))
}

// forward sends the request to the worker that owns the instance (with
// forward=false, so it is never forwarded twice) and relays the answer.
func (s *server) forward(w http.ResponseWriter, r *http.Request, workerID string) error {
	q := r.URL.Query()
	q.Set("forward", "false")
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+workerID+r.URL.Path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &runtime.Error{Code: http.StatusConflict, Message: fmt.Sprintf("Cannot forward the request to worker %s: %v", workerID, err)}
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	return nil
}
