package converters

import (
	"sync"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// Several tasks may share a converter; its caches must hold under -race.
func TestConvertersConcurrent(t *testing.T) {
	url := startRegistry(t)
	convs := []connect.Converter{
		configured(t, NewJSON(), connect.Config{}),
		configured(t, &Avro{}, connect.Config{"schema.registry.url": url}),
		configured(t, &JSONSchema{}, connect.Config{"schema.registry.url": url}),
		configured(t, &Protobuf{}, connect.Config{"schema.registry.url": url}),
	}
	topics := []string{"cj", "ca", "cs", "cp"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				s, v := allTypes() // a new *Schema each time: caches fill and are read concurrently
				for j, c := range convs {
					b, err := c.FromConnect(topics[j], s, v)
					if err != nil {
						errs <- err
						return
					}
					if _, _, err := c.ToConnect(topics[j], b); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
