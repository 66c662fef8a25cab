package converters

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// The connector keys that choose converters; their own keys follow under
// "<key>." (value.converter.schema.registry.url=...).
var converterKeys = []string{"key.converter", "value.converter", "header.converter"}

// Validate returns the problems of the key.converter, value.converter and
// header.converter keys of a connector config and of their prefixed keys,
// each naming the full key (for /connector-plugins/.../config/validate).
// Absent converter keys are not errors: the worker's apply.
func Validate(cfg connect.Config) []connect.FieldError {
	var errs []connect.FieldError
	for _, key := range converterKeys {
		class := strings.TrimSpace(cfg[key])
		if class == "" {
			continue
		}
		p, ok := connect.Lookup(class)
		if !ok {
			errs = append(errs, connect.FieldError{Field: key, Message: fmt.Sprintf("Invalid value %s for configuration %s: Class %s could not be found.", class, key, class)})
			continue
		}
		if p.Spec.Kind != connect.ConverterKind {
			errs = append(errs, connect.FieldError{Field: key, Message: fmt.Sprintf("Invalid value %s for configuration %s: %s is a %s, not a converter", class, key, class, p.Spec.Kind)})
			continue
		}
		sub := Sub(cfg, key)
		ferrs := p.Spec.Validate(sub)
		for _, e := range ferrs {
			errs = append(errs, connect.FieldError{Field: key + "." + e.Field, Message: e.Message})
		}
		if len(ferrs) > 0 {
			continue
		}
		// Configure catches what the spec cannot (a URL that is not one).
		if err := p.NewConverter().Configure(sub, key == "key.converter"); err != nil {
			var fe connect.FieldError
			if errors.As(err, &fe) {
				errs = append(errs, connect.FieldError{Field: key + "." + fe.Field, Message: fe.Message})
			} else {
				errs = append(errs, connect.FieldError{Field: key, Message: err.Error()})
			}
		}
	}
	return errs
}

// Sub returns the keys of a converter (prefix "value.converter" and so on)
// without the prefix, as Kafka passes them to Converter.configure.
func Sub(cfg connect.Config, prefix string) connect.Config {
	sub := connect.Config{}
	for k, v := range cfg {
		if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
			sub[rest] = v
		}
	}
	return sub
}
