package broker

// The API table: every request key the broker serves, the versions it
// accepts (what ApiVersions advertises) and its handler. Floors follow
// Kafka 4.x (KIP-896); maxima are what the handlers implement.

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const apiKeyApiVersions = 18

type api struct {
	key      int16
	name     string
	min, max int16
	handle   func(*Server, *reqCtx, kmsg.Request) response
}

var apis = map[int16]*api{}

// register adds an API; each NN_name.go file registers its own in init.
func register(key int16, min, max int16, h func(*Server, *reqCtx, kmsg.Request) response) {
	apis[key] = &api{key: key, name: kmsg.NameForKey(key), min: min, max: max, handle: h}
}

func lookupAPI(key int16) *api { return apis[key] }

func sortedAPIs() []*api {
	out := make([]*api, 0, len(apis))
	for _, a := range apis {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
