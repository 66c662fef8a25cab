package broker

// IncrementalAlterConfigs (key 44), v0-v1: SET, DELETE (back to the
// default), APPEND and SUBTRACT (list configs such as cleanup.policy) on a
// topic's overrides. The resulting set is validated as a whole before it is
// stored; ValidateOnly changes nothing.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(44, 0, 1, handleIncrementalAlterConfigs) }

func handleIncrementalAlterConfigs(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		or := kmsg.NewIncrementalAlterConfigsResponseResource()
		or.ResourceType, or.ResourceName = rr.ResourceType, rr.ResourceName
		resp.Resources = append(resp.Resources, or)
		o := &resp.Resources[len(resp.Resources)-1]
		if rr.ResourceType != kmsg.ConfigResourceTypeTopic {
			o.ErrorCode, o.ErrorMessage = kerr.InvalidRequest.Code, strp("only topic configs can be altered; broker settings are given at start")
			continue
		}
		t := s.topics.get(rr.ResourceName)
		if t == nil {
			o.ErrorCode, o.ErrorMessage = alterErrorCode(errUnknownTopic, rr.ResourceName)
			continue
		}
		overrides := s.topics.overrides(t)
		var bad error
		for _, c := range rr.Configs {
			def, known := topicConfigIndex[c.Name]
			if !known {
				bad = fmt.Errorf("%w: unknown topic config name: %s", errInvalidConfig, c.Name)
				break
			}
			val := ""
			if c.Value != nil {
				val = *c.Value
			}
			switch c.Op {
			case kmsg.IncrementalAlterConfigOpSet:
				if c.Value == nil {
					bad = fmt.Errorf("%w: SET of %s needs a value", errInvalidConfig, c.Name)
				}
				overrides[c.Name] = val
			case kmsg.IncrementalAlterConfigOpDelete:
				delete(overrides, c.Name)
			case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
				if def.typ != typeList {
					bad = fmt.Errorf("%w: %s is not a list config; APPEND and SUBTRACT apply to lists only", errInvalidConfig, c.Name)
					break
				}
				cur, ok := overrides[c.Name]
				if !ok {
					cur = def.def
				}
				items := splitList(cur)
				for _, v := range splitList(val) {
					i := slices.Index(items, v)
					if c.Op == kmsg.IncrementalAlterConfigOpAppend && i < 0 {
						items = append(items, v)
					} else if c.Op == kmsg.IncrementalAlterConfigOpSubtract && i >= 0 {
						items = slices.Delete(items, i, i+1)
					}
				}
				overrides[c.Name] = strings.Join(items, ",")
			default:
				bad = fmt.Errorf("%w: unknown operation %d for %s", errInvalidConfig, c.Op, c.Name)
			}
			if bad != nil {
				break
			}
		}
		if bad == nil {
			bad = s.topics.setConfigs(rr.ResourceName, overrides, req.ValidateOnly)
		}
		o.ErrorCode, o.ErrorMessage = alterErrorCode(bad, rr.ResourceName)
	}
	return ready(resp)
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
