package runtime

import (
	"fmt"
	"runtime/debug"
)

// panicError is a panic in plugin code, turned into an error with the stack
// where it happened, so a bad plugin fails its task and not the process.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// safe runs f and turns a panic into a *panicError.
func safe(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return f()
}
