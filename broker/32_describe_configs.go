package broker

// DescribeConfigs (key 32), v1-v4. Topic resources list every topic config
// key with its value and source (DYNAMIC_TOPIC_CONFIG for overrides,
// DEFAULT_CONFIG otherwise), with synonyms and documentation on request
// (v1+ / v3+). Broker resources list the broker settings that shape topics.

import (
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(32, 1, 4, handleDescribeConfigs) }

func handleDescribeConfigs(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		or := kmsg.NewDescribeConfigsResponseResource()
		or.ResourceType, or.ResourceName = rr.ResourceType, rr.ResourceName
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t := s.topics.get(rr.ResourceName)
			if t == nil {
				or.ErrorCode = kerr.UnknownTopicOrPartition.Code
				or.ErrorMessage = strp(fmt.Sprintf("topic %s does not exist", rr.ResourceName))
				break
			}
			or.Configs = s.describeTopicConfigs(t, s.topics.overrides(t), rr.ConfigNames, req.IncludeSynonyms, req.IncludeDocumentation)
		case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
			if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(s.cfg.NodeID)) {
				or.ErrorCode = kerr.InvalidRequest.Code
				or.ErrorMessage = strp(fmt.Sprintf("unknown broker %q: this node is %d", rr.ResourceName, s.cfg.NodeID))
				break
			}
			or.Configs = s.describeBrokerConfigs(rr.ConfigNames, req.IncludeDocumentation)
		default:
			or.ErrorCode = kerr.InvalidRequest.Code
			or.ErrorMessage = strp(fmt.Sprintf("resource type %d is not supported", rr.ResourceType))
		}
		resp.Resources = append(resp.Resources, or)
	}
	return ready(resp)
}

func wanted(names []string) func(string) bool {
	if names == nil {
		return func(string) bool { return true }
	}
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return func(n string) bool { return set[n] }
}

// describeTopicConfigs lists a topic's configs given its overrides.
func (s *Server) describeTopicConfigs(t *Topic, overrides map[string]string, names []string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	want := wanted(names)
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, def := range topicConfigDefs {
		if !want(def.name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.ConfigType = def.name, kmsg.ConfigType(def.typ)
		v, set := overrides[def.name]
		if set {
			c.Source = kmsg.ConfigSourceDynamicTopicConfig
		} else {
			v, c.Source, c.IsDefault = def.def, kmsg.ConfigSourceDefaultConfig, true
		}
		c.Value = strp(v)
		if synonyms {
			if set {
				sy := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				sy.Name, sy.Value, sy.Source = def.name, strp(v), kmsg.ConfigSourceDynamicTopicConfig
				c.ConfigSynonyms = append(c.ConfigSynonyms, sy)
			}
			sy := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			sy.Name, sy.Value, sy.Source = def.name, strp(def.def), kmsg.ConfigSourceDefaultConfig
			c.ConfigSynonyms = append(c.ConfigSynonyms, sy)
		}
		if docs {
			c.Documentation = strp(def.doc)
		}
		out = append(out, c)
	}
	return out
}

func (s *Server) describeBrokerConfigs(names []string, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	want := wanted(names)
	entries := []struct{ name, value, doc string }{
		{"auto.create.topics.enable", strconv.FormatBool(s.cfg.AutoCreateTopics), "Create unknown topics on Metadata requests."},
		{"num.partitions", strconv.Itoa(int(s.cfg.DefaultPartitions)), "Partitions of auto-created topics."},
		{"default.replication.factor", "1", "Single node."},
		{"log.dirs", s.topics.logDir, "Where partition logs live."},
		{"broker.id", strconv.Itoa(int(s.cfg.NodeID)), "This node's id."},
		{"node.id", strconv.Itoa(int(s.cfg.NodeID)), "This node's id."},
		{"message.max.bytes", "1048588", "Default max.message.bytes of topics."},
		{"log.retention.ms", "604800000", "Default retention.ms of topics."},
		{"log.segment.bytes", "1073741824", "Default segment.bytes of topics."},
		{"log.cleanup.policy", "delete", "Default cleanup.policy of topics."},
		{"log.retention.check.interval.ms", strconv.FormatInt(s.cfg.RetentionCheck.Milliseconds(), 10), "How often retention runs."},
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, e := range entries {
		if !want(e.name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value, c.ReadOnly, c.Source = e.name, strp(e.value), true, kmsg.ConfigSourceStaticBrokerConfig
		if docs {
			c.Documentation = strp(e.doc)
		}
		out = append(out, c)
	}
	return out
}
