// Package configkeys moves configuration keys that were renamed, so that a component keeps reading
// a configuration written with the old name (and says so) for a deprecation period.
package configkeys

import (
	"fmt"

	"go.opentelemetry.io/collector/confmap"
)

// Rename returns conf with its top-level key old moved to new, and whether old was set. Both set is
// an error: which one is meant cannot be told.
func Rename(conf *confmap.Conf, old, new string) (*confmap.Conf, bool, error) {
	if conf == nil || !conf.IsSet(old) {
		return conf, false, nil
	}
	if conf.IsSet(new) {
		return nil, true, fmt.Errorf("%s: set together with %s, which replaces it; keep only %s", old, new, new)
	}
	m := conf.ToStringMap()
	m[new] = m[old]
	delete(m, old)
	return confmap.NewFromStringMap(m), true, nil
}
