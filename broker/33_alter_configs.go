package broker

// AlterConfigs (key 33), v0-v2: replaces a topic's whole set of overrides
// (keys left out return to their defaults), as Kafka's legacy API does.
// Every key is validated before anything changes; ValidateOnly changes
// nothing. Broker configs are static here and are refused.

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(33, 0, 2, handleAlterConfigs) }

func handleAlterConfigs(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		or := kmsg.NewAlterConfigsResponseResource()
		or.ResourceType, or.ResourceName = rr.ResourceType, rr.ResourceName
		if rr.ResourceType != kmsg.ConfigResourceTypeTopic {
			or.ErrorCode = kerr.InvalidRequest.Code
			or.ErrorMessage = strp("only topic configs can be altered; broker settings are given at start")
			resp.Resources = append(resp.Resources, or)
			continue
		}
		overrides := map[string]string{}
		for _, c := range rr.Configs {
			if c.Value != nil {
				overrides[c.Name] = *c.Value
			}
		}
		or.ErrorCode, or.ErrorMessage = alterErrorCode(s.topics.setConfigs(rr.ResourceName, overrides, req.ValidateOnly), rr.ResourceName)
		resp.Resources = append(resp.Resources, or)
	}
	return ready(resp)
}

func alterErrorCode(err error, topic string) (int16, *string) {
	switch {
	case err == nil:
		return 0, nil
	case errors.Is(err, errUnknownTopic):
		return kerr.UnknownTopicOrPartition.Code, strp(fmt.Sprintf("topic %s does not exist", topic))
	case errors.Is(err, errInvalidConfig):
		return kerr.InvalidConfig.Code, errMessage(err)
	default:
		return kerr.KafkaStorageError.Code, errMessage(err)
	}
}
