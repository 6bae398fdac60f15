package intent

import "math"

// resourceIndex finds the first resource whose matchers all match a span, without trying every
// resource: each resource with a literal matcher is filed under one (key, value) pair, the key with
// the most distinct literal values across resources (db.namespace rather than db.system.name), so a
// span is tried only against the resources its own value of that key selects. Resources with globs
// only are tried in turn.
//
// A span's lookup reads little memory that other spans do not share, since a collector meets each
// batch with the model out of its caches: the first resource filed under a value lies in the map's
// slot itself, and matchers that many resources repeat (db.system.name: postgresql) share one copy.
type resourceIndex struct {
	keys   []indexKey // the keys resources are filed under
	linear []filed    // resources with globs only, in file order
}

type indexKey struct {
	keys    []string         // the key as written in the model, then its other semantic-convention names
	byValue map[string]filed // resources filed under the key, by their literal value
}

// filed is a resource as the index holds it.
type filed struct {
	id    NodeID
	order int32       // position among the resources, for "the first in file order"
	rest  []attrMatch // the matchers other than the one it is filed under
	more  []filed     // further resources filed under the same value, in file order (rare)
}

func newResourceIndex(rs []resource) resourceIndex {
	distinct := map[string]map[string]bool{}
	for i := range rs {
		for _, m := range rs[i].matches {
			if m.glob.isLiteral() {
				if distinct[m.keys[0]] == nil {
					distinct[m.keys[0]] = map[string]bool{}
				}
				distinct[m.keys[0]][m.glob.literal] = true
			}
		}
	}
	var idx resourceIndex
	keyAt := map[string]int{} // position in idx.keys, by key
	rests := map[literalMatch][]attrMatch{}
	for i := range rs {
		r := &rs[i]
		best := -1
		for j, m := range r.matches {
			if m.glob.isLiteral() && (best < 0 || len(distinct[m.keys[0]]) > len(distinct[r.matches[best].keys[0]])) {
				best = j
			}
		}
		f := filed{id: r.id, order: int32(r.order), rest: r.matches}
		if best < 0 {
			idx.linear = append(idx.linear, f)
			continue
		}
		f.rest = sharedRest(rests, r.matches, best)
		idx.file(keyAt, r.matches[best], f)
	}
	return idx
}

// file files f under the value of its literal matcher m; keyAt is the position of each key in keys.
func (x *resourceIndex) file(keyAt map[string]int, m attrMatch, f filed) {
	at, ok := keyAt[m.keys[0]]
	if !ok {
		at = len(x.keys)
		keyAt[m.keys[0]] = at
		x.keys = append(x.keys, indexKey{keys: m.keys, byValue: map[string]filed{}})
	}
	byValue := x.keys[at].byValue
	if first, ok := byValue[m.glob.literal]; ok {
		first.more = append(first.more, f)
		byValue[m.glob.literal] = first
	} else {
		byValue[m.glob.literal] = f
	}
}

// literalMatch is a matcher of one literal value.
type literalMatch struct{ key, literal string }

// sharedRest returns matches without the one at skip, one copy for every resource whose rest is the
// same literal matcher: models repeat it (db.system.name: postgresql on every database), and a copy
// that every span reads stays in the caches.
func sharedRest(rests map[literalMatch][]attrMatch, matches []attrMatch, skip int) []attrMatch {
	rest := make([]attrMatch, 0, len(matches)-1)
	rest = append(append(rest, matches[:skip]...), matches[skip+1:]...)
	if len(rest) != 1 || !rest[0].glob.isLiteral() {
		return rest
	}
	k := literalMatch{rest[0].keys[0], rest[0].glob.literal}
	if shared, ok := rests[k]; ok {
		return shared
	}
	rests[k] = rest
	return rest
}

func matchIndex[A Attributes](x *resourceIndex, attrs A) NodeID {
	found, order := NoNode, int32(math.MaxInt32)
	for i := range x.keys {
		k := &x.keys[i]
		v, ok := getAny(attrs, k.keys)
		if !ok {
			continue
		}
		if first, ok := k.byValue[v]; ok {
			if first.order < order && matchesAll(first.rest, attrs) {
				found, order = first.id, first.order // the others under v come later in the file
			} else {
				found, order = earliest(first.more, found, order, attrs)
			}
		}
	}
	found, _ = earliest(x.linear, found, order, attrs)
	return found
}

// earliest returns the first of fs (in file order) that comes before order and matches attrs, with
// its order; found and order when none does.
func earliest[A Attributes](fs []filed, found NodeID, order int32, attrs A) (NodeID, int32) {
	for i := range fs {
		if fs[i].order >= order {
			break
		}
		if matchesAll(fs[i].rest, attrs) {
			return fs[i].id, fs[i].order
		}
	}
	return found, order
}

func matchesAll[A Attributes](ms []attrMatch, attrs A) bool {
	for i := range ms {
		if v, ok := getAny(attrs, ms[i].keys); !ok || !ms[i].glob.match(v) {
			return false
		}
	}
	return true
}

// getAny returns the value of the first of keys that attrs has.
func getAny[A Attributes](attrs A, keys []string) (string, bool) {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			return v, true
		}
	}
	return "", false
}
