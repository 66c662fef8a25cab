package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/sluicedata/sluice/sql/ast"
)

// Connector statements are forwarded to the Kafka Connect REST API at
// Config.ConnectURL, as ksqlDB forwards them to ksql.connect.url. Their
// answers use ksqlDB's entity shapes (connector_info, drop_connector,
// connector_description, connector_list, connector_plugins_list).

// connectorStatement answers a connector statement, or reports false when
// stmt is not one.
func (e *Engine) connectorStatement(ctx context.Context, stmt ast.Statement, text string) (any, bool, error) {
	switch s := stmt.(type) {
	case *ast.CreateConnector:
		ent, err := e.createConnector(ctx, s, text)
		return ent, true, err
	case *ast.DropConnector:
		status, body, err := e.connectCall(ctx, http.MethodDelete, "/connectors/"+url.PathEscape(s.Name), nil)
		if err != nil {
			return nil, true, err
		}
		if status == http.StatusNotFound && s.IfExists {
			return map[string]any{"@type": "warning_entity", "statementText": text, "message": "Connector " + s.Name + " does not exist."}, true, nil
		}
		if status >= 300 {
			return nil, true, connectError(status, body)
		}
		return map[string]any{"@type": "drop_connector", "statementText": text, "connectorName": s.Name, "warnings": []any{}}, true, nil
	case *ast.DescribeConnector:
		ent, err := e.describeConnector(ctx, s.Name, text)
		return ent, true, err
	case *ast.Show:
		switch s.What {
		case ast.ShowConnectors:
			ent, err := e.listConnectors(ctx, s.Connector, text)
			return ent, true, err
		case ast.ShowConnectorPlugins:
			status, body, err := e.connectCall(ctx, http.MethodGet, "/connector-plugins", nil)
			if err != nil {
				return nil, true, err
			}
			if status >= 300 {
				return nil, true, connectError(status, body)
			}
			var plugins []map[string]any
			json.Unmarshal(body, &plugins)
			return map[string]any{"@type": "connector_plugins_list", "statementText": text, "connectorsPlugins": plugins, "warnings": []any{}}, true, nil
		}
	}
	return nil, false, nil
}

func (e *Engine) connectCall(ctx context.Context, method, path string, body any) (int, []byte, error) {
	if e.cfg.ConnectURL == "" {
		return 0, nil, errors.New("Failed to connect to the Kafka Connect cluster: no Connect REST API is configured (sluice dev --connect-listen)")
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.cfg.ConnectURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("Failed to connect to the Kafka Connect cluster at %s: %w", e.cfg.ConnectURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// connectError turns a Kafka Connect error answer into the statement's error.
func connectError(status int, body []byte) error {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return errors.New(e.Message)
	}
	return fmt.Errorf("Kafka Connect answered %d: %s", status, body)
}

func (e *Engine) createConnector(ctx context.Context, s *ast.CreateConnector, text string) (any, error) {
	config := map[string]string{}
	for _, p := range s.Props {
		v, err := propertyText(p.Value)
		if err != nil {
			return nil, fmt.Errorf("connector property %s: %w", p.Name, err)
		}
		config[p.Name] = v
	}
	if s.IfNotExists {
		if status, _, err := e.connectCall(ctx, http.MethodGet, "/connectors/"+url.PathEscape(s.Name), nil); err == nil && status == http.StatusOK {
			return map[string]any{"@type": "warning_entity", "statementText": text, "message": "Connector " + s.Name + " already exists"}, nil
		}
	}
	status, body, err := e.connectCall(ctx, http.MethodPost, "/connectors", map[string]any{"name": s.Name, "config": config})
	if err != nil {
		return nil, err
	}
	if status >= 300 {
		return nil, connectError(status, body)
	}
	var info map[string]any
	json.Unmarshal(body, &info)
	return map[string]any{"@type": "connector_info", "statementText": text, "info": info, "warnings": []any{}}, nil
}

// propertyText is a WITH property's value as Kafka Connect wants it: text.
func propertyText(v ast.Expr) (string, error) {
	switch x := v.(type) {
	case *ast.StringLit:
		return x.Value, nil
	case *ast.BoolLit:
		return strconv.FormatBool(x.Value), nil
	case nil:
		return "", errors.New("no value")
	}
	// Numbers print as themselves.
	return ast.Format(v), nil
}

func (e *Engine) describeConnector(ctx context.Context, name, text string) (any, error) {
	status, body, err := e.connectCall(ctx, http.MethodGet, "/connectors/"+url.PathEscape(name), nil)
	if err != nil {
		return nil, err
	}
	if status >= 300 {
		return nil, connectError(status, body)
	}
	var info struct {
		Config map[string]string `json:"config"`
	}
	json.Unmarshal(body, &info)
	status, body, err = e.connectCall(ctx, http.MethodGet, "/connectors/"+url.PathEscape(name)+"/status", nil)
	if err != nil {
		return nil, err
	}
	if status >= 300 {
		return nil, connectError(status, body)
	}
	var st map[string]any
	json.Unmarshal(body, &st)
	var topics []string
	if s, b, err := e.connectCall(ctx, http.MethodGet, "/connectors/"+url.PathEscape(name)+"/topics", nil); err == nil && s == http.StatusOK {
		var tt map[string]struct {
			Topics []string `json:"topics"`
		}
		json.Unmarshal(b, &tt)
		topics = tt[name].Topics
	}
	if topics == nil {
		topics = []string{}
	}
	return map[string]any{"@type": "connector_description", "statementText": text, "connectorClass": info.Config["connector.class"],
		"status": st, "sources": []any{}, "topics": topics, "warnings": []any{}}, nil
}

func (e *Engine) listConnectors(ctx context.Context, kind ast.ConnectorKind, text string) (any, error) {
	status, body, err := e.connectCall(ctx, http.MethodGet, "/connectors?expand=status&expand=info", nil)
	if err != nil {
		return nil, err
	}
	if status >= 300 {
		return nil, connectError(status, body)
	}
	var all map[string]struct {
		Status struct {
			Connector struct {
				State string `json:"state"`
			} `json:"connector"`
			Tasks []struct {
				State string `json:"state"`
			} `json:"tasks"`
			Type string `json:"type"`
		} `json:"status"`
		Info struct {
			Config map[string]string `json:"config"`
			Type   string            `json:"type"`
		} `json:"info"`
	}
	if err := json.Unmarshal(body, &all); err != nil {
		return nil, fmt.Errorf("Kafka Connect's connector list: %w", err)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var list []any
	for _, n := range names {
		c := all[n]
		typ := c.Info.Type
		if kind == ast.SourceConnector && typ != "source" || kind == ast.SinkConnector && typ != "sink" {
			continue
		}
		running := 0
		for _, t := range c.Status.Tasks {
			if t.State == "RUNNING" {
				running++
			}
		}
		state := fmt.Sprintf("%s (%d/%d tasks RUNNING)", c.Status.Connector.State, running, len(c.Status.Tasks))
		list = append(list, map[string]any{"name": n, "type": typ, "className": c.Info.Config["connector.class"], "state": state})
	}
	if list == nil {
		list = []any{}
	}
	return map[string]any{"@type": "connector_list", "statementText": text, "connectors": list, "warnings": []any{}}, nil
}
