package broker

// ApiVersions (key 18), v0-v4. Answers every version: a version above ours
// gets a v0-shaped UNSUPPORTED_VERSION answer carrying our range, and the
// client retries at that version (KIP-511). The response header is always
// v0, even for flexible versions (handled in conn.writeLoop). v3+ checks
// the client software name and version as Kafka does, and lists the
// features (KIP-584): transaction.version 2 is what tells franz-go and the
// Java client to use KIP-890 part 2 transactions (with Produce v12, EndTxn
// v5 and TxnOffsetCommit v5 advertised).

import (
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(18, 0, 4, handleApiVersions) }

var softwareNamePattern = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func apiVersionsList() []kmsg.ApiVersionsResponseApiKey {
	var keys []kmsg.ApiVersionsResponseApiKey
	for _, a := range sortedAPIs() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
		keys = append(keys, k)
	}
	return keys
}

func unsupportedApiVersions() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey, k.MinVersion, k.MaxVersion = apiKeyApiVersions, apis[apiKeyApiVersions].min, apis[apiKeyApiVersions].max
	resp.ApiKeys = []kmsg.ApiVersionsResponseApiKey{k}
	return resp
}

func handleApiVersions(s *Server, rc *reqCtx, kreq kmsg.Request) response {
	req := kreq.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if rc.version >= 3 && (!softwareNamePattern.MatchString(req.ClientSoftwareName) || !softwareNamePattern.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return ready(resp)
	}
	resp.ApiKeys = apiVersionsList()
	if rc.version >= 3 {
		for _, f := range features {
			sf := kmsg.NewApiVersionsResponseSupportedFeature()
			sf.Name, sf.MinVersion, sf.MaxVersion = f.name, f.min, f.max
			resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
			ff := kmsg.NewApiVersionsResponseFinalizedFeature()
			ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = f.name, f.level, f.level
			resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
		}
		resp.FinalizedFeaturesEpoch = 1 // the features never change on a running broker
	}
	return ready(resp)
}

// features are the feature flags served (KIP-584): supported range and
// the finalized level, which clients act on.
var features = []struct {
	name            string
	min, max, level int16
}{
	{name: "transaction.version", min: 0, max: 2, level: 2}, // KIP-890 part 2 transactions
}
