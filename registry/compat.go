package registry

import "fmt"

// Compatibility levels.
const (
	None               = "NONE"
	Backward           = "BACKWARD"
	BackwardTransitive = "BACKWARD_TRANSITIVE"
	Forward            = "FORWARD"
	ForwardTransitive  = "FORWARD_TRANSITIVE"
	Full               = "FULL"
	FullTransitive     = "FULL_TRANSITIVE"
)

func validLevel(l string) bool {
	switch l {
	case None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive:
		return true
	}
	return false
}

func transitive(level string) bool {
	return level == BackwardTransitive || level == ForwardTransitive || level == FullTransitive
}

// checkCompat checks next against the previous versions (oldest first) under
// level and returns the violations; empty means compatible. A non-transitive
// level only looks at the newest previous version.
func checkCompat(level string, next parsed, prev []parsed, prevVersions []int) []string {
	if level == None || len(prev) == 0 {
		return nil
	}
	if !transitive(level) {
		prev, prevVersions = prev[len(prev)-1:], prevVersions[len(prevVersions)-1:]
	}
	var out []string
	for i := len(prev) - 1; i >= 0; i-- {
		old := prev[i]
		var msgs []string
		switch level {
		case Backward, BackwardTransitive:
			msgs = next.compatible(old)
		case Forward, ForwardTransitive:
			msgs = old.compatible(next)
		case Full, FullTransitive:
			msgs = append(next.compatible(old), old.compatible(next)...)
		}
		if len(msgs) > 0 {
			out = append(out, msgs...)
			if prevVersions != nil && prevVersions[i] > 0 {
				out = append(out, fmt.Sprintf("{oldSchemaVersion: %d}", prevVersions[i]))
			}
			out = append(out, fmt.Sprintf("{compatibility: '%s'}", level))
		}
	}
	return out
}
