package intent

// resourceIndex finds the first resource whose matchers all match a span, without trying every
// resource: each resource with a literal matcher is filed under one (key, value) pair, the key with
// the most distinct literal values across resources (db.namespace rather than db.system.name), so a
// span is tried only against the resources its own value of that key selects. Resources with globs
// only are tried in turn.
type resourceIndex struct {
	keys   []indexKey // the keys resources are filed under
	byKV   map[kv][]*resource
	linear []*resource
}

type indexKey struct {
	name string   // as written in the model
	keys []string // with its names in other semantic-convention versions
}

type kv struct{ key, value string }

func newResourceIndex(rs []resource) resourceIndex {
	distinct := map[string]map[string]bool{}
	for i := range rs {
		for _, m := range rs[i].matches {
			if !m.glob.isGlob() && !m.glob.simple {
				if distinct[m.keys[0]] == nil {
					distinct[m.keys[0]] = map[string]bool{}
				}
				distinct[m.keys[0]][m.glob.literal] = true
			}
		}
	}
	idx := resourceIndex{byKV: map[kv][]*resource{}}
	used := map[string]bool{}
	for i := range rs {
		r := &rs[i]
		best := -1
		for j, m := range r.matches {
			if m.glob.isGlob() || m.glob.simple {
				continue
			}
			if best < 0 || len(distinct[m.keys[0]]) > len(distinct[r.matches[best].keys[0]]) {
				best = j
			}
		}
		r.filed = best
		if best < 0 {
			idx.linear = append(idx.linear, r)
			continue
		}
		m := r.matches[best]
		k := kv{m.keys[0], m.glob.literal}
		idx.byKV[k] = append(idx.byKV[k], r)
		if !used[m.keys[0]] {
			used[m.keys[0]] = true
			idx.keys = append(idx.keys, indexKey{name: m.keys[0], keys: m.keys})
		}
	}
	return idx
}

func matchIndex[A Attributes](x *resourceIndex, attrs A) NodeID {
	var found *resource
	consider := func(r *resource) {
		if (found == nil || r.order < found.order) && matchesAll(r, attrs) {
			found = r
		}
	}
	for _, k := range x.keys {
		for _, name := range k.keys {
			if v, ok := attrs.Get(name); ok {
				for _, r := range x.byKV[kv{k.name, v}] {
					consider(r)
				}
				break
			}
		}
	}
	for _, r := range x.linear {
		if found != nil && r.order > found.order {
			break
		}
		consider(r)
	}
	if found == nil {
		return NoNode
	}
	return found.id
}
