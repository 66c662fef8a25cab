package broker

// ApiVersions (key 18), v0-v4. Answers every version: a version above ours
// gets a v0-shaped UNSUPPORTED_VERSION answer carrying our range, and the
// client retries at that version (KIP-511). The response header is always
// v0, even for flexible versions (handled in conn.writeLoop). v3+ checks
// the client software name and version as Kafka does.

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
	return ready(resp)
}
