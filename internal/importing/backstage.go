package importing

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// entity is a Backstage catalog entity as far as intent needs it.
type entity struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Type         string   `yaml:"type"`
		Lifecycle    string   `yaml:"lifecycle"`
		Owner        string   `yaml:"owner"`
		System       string   `yaml:"system"`
		Domain       string   `yaml:"domain"`
		DependsOn    []string `yaml:"dependsOn"`
		DependencyOf []string `yaml:"dependencyOf"`
		ConsumesApis []string `yaml:"consumesApis"`
		ProvidesApis []string `yaml:"providesApis"`
		Subcomponent string   `yaml:"subcomponentOf"`
	} `yaml:"spec"`
	where string
}

// ref is the entity ref "kind:namespace/name", lower case, as Backstage compares them.
func (e *entity) ref() string { return makeRef(e.Kind, e.Metadata.Namespace, e.Metadata.Name) }

func makeRef(kind, namespace, name string) string {
	if namespace == "" {
		namespace = "default"
	}
	return strings.ToLower(kind + ":" + namespace + "/" + name)
}

// parseRef reads an entity ref, "[kind:][namespace/]name", with the kind it defaults to.
func parseRef(s, defaultKind, namespace string) string {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		kind, rest = defaultKind, s
	}
	ns, name, ok := strings.Cut(rest, "/")
	if !ok {
		ns, name = namespace, rest
	}
	return makeRef(kind, ns, name)
}

// Backstage imports catalog entity files (or directories of them): Components and Resources are
// the nodes (a library is skipped: nothing calls it), dependsOn and dependencyOf the dependencies,
// consumesApis a dependency on the component that provides the API; spec.system is the zone,
// spec.owner the owner, spec.type the kind of a resource; the lifecycle goes in the comment naming
// the source. Every relation that declares nothing is skipped and counted, with why.
func Backstage(paths ...string) (*Result, error) {
	entities, err := readEntities(paths)
	if err != nil {
		return nil, err
	}
	byRef := map[string]*entity{}
	providers := map[string][]string{} // api ref -> component refs
	for _, e := range entities {
		byRef[e.ref()] = e
		for _, api := range e.Spec.ProvidesApis {
			ref := parseRef(api, "api", e.Metadata.Namespace)
			providers[ref] = append(providers[ref], e.ref())
		}
	}
	r := &Result{}
	names := map[string]string{} // entity ref -> node name
	for _, e := range entities {
		switch {
		case e.Kind == "Component" && e.Spec.Type == "library":
			r.Skip(e.where, "component "+e.Metadata.Name, "a library is not deployed: nothing calls it")
		case e.Kind == "Component" || e.Kind == "Resource":
			s := r.Service(e.Metadata.Name, source(e))
			names[e.ref()] = s.Name
			s.Zone, s.Owner = e.Spec.System, ownerName(e.Spec.Owner)
			if e.Kind == "Resource" {
				s.Kind = resourceKind(e.Spec.Type)
			}
		default:
			why := notANode[e.Kind]
			if why == "" {
				why = "a " + e.Kind + " is not a kind of entity this import knows"
			}
			r.Skip(e.where, strings.ToLower(e.Kind)+" "+e.Metadata.Name, why)
		}
	}
	for _, e := range entities {
		from, ok := names[e.ref()]
		if !ok {
			continue
		}
		for _, d := range e.Spec.DependsOn {
			r.relate(from, d, "dependsOn", e, names, byRef, false)
		}
		for _, d := range e.Spec.DependencyOf {
			r.relate(from, d, "dependencyOf", e, names, byRef, true)
		}
		for _, api := range e.Spec.ConsumesApis {
			ref := parseRef(api, "api", e.Metadata.Namespace)
			ps := providers[ref]
			if len(ps) == 0 {
				r.Skip(e.where, fmt.Sprintf("%s consumesApis %s", e.Metadata.Name, api), "no component provides that API")
				continue
			}
			for _, p := range ps {
				if to, ok := names[p]; ok && to != from {
					r.Depend(from, to, fmt.Sprintf("consumesApis %s, provided by %s (%s)", api, p, e.where))
				}
			}
		}
		if e.Spec.Subcomponent != "" {
			r.Skip(e.where, e.Metadata.Name+" subcomponentOf "+e.Spec.Subcomponent, "a part, not a call")
		}
	}
	return r, nil
}

// notANode says why each other kind of entity is not a node of the intent.
var notANode = map[string]string{
	"API":      "an API is not a node: consumesApis leads to the component that provides it",
	"System":   "a System is not a node: it is the zone of its components",
	"Domain":   "a Domain is not a node: it groups systems",
	"Group":    "a Group is not a node: it owns components",
	"User":     "a User is not a node: it owns components",
	"Location": "a Location is not a node: it lists files",
	"Template": "a Template is not a node: it makes components",
}

// relate declares from -> the entity ref names (reversed for dependencyOf).
func (r *Result) relate(from, ref, relation string, e *entity, names map[string]string, byRef map[string]*entity, reverse bool) {
	full := parseRef(ref, "component", e.Metadata.Namespace)
	to, ok := names[full]
	if !ok {
		why := "unknown ref: no such entity in the files read"
		if byRef[full] != nil {
			why = "the entity is not a component or resource"
		}
		r.Skip(e.where, fmt.Sprintf("%s %s %s", e.Metadata.Name, relation, ref), why)
		return
	}
	src := fmt.Sprintf("%s %s (%s)", relation, full, e.where)
	if reverse {
		r.Depend(to, from, src)
	} else {
		r.Depend(from, to, src)
	}
}

func source(e *entity) string {
	s := e.ref()
	if e.Spec.Lifecycle != "" {
		s += ", lifecycle " + e.Spec.Lifecycle
	}
	return s + " (" + e.where + ")"
}

func ownerName(owner string) string {
	if _, name, ok := strings.Cut(owner, ":"); ok {
		owner = name
	}
	if _, name, ok := strings.Cut(owner, "/"); ok {
		owner = name
	}
	return owner
}

// resourceKind maps a Backstage resource type to an intent resource kind.
func resourceKind(t string) string {
	switch strings.ToLower(t) {
	case "database", "db", "cache":
		return "database"
	case "queue", "topic", "kafka-topic", "stream":
		return "messaging"
	}
	return "external"
}

// readEntities reads every entity of the files (a directory: its .yaml and .yml files), each with
// its file and line; a document that is not an entity is an error naming them.
func readEntities(paths []string) ([]*entity, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	seen := map[string]string{}
	var out []*entity
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		err = Documents(f, data, func(doc *yaml.Node, line int) error {
			e := &entity{where: at(f, line)}
			if err := doc.Decode(e); err != nil {
				return fmt.Errorf("%s: not a catalog entity: %w", e.where, err)
			}
			switch {
			case e.Kind == "":
				return fmt.Errorf("%s: kind: missing: not a catalog entity", e.where)
			case e.Metadata.Name == "":
				return fmt.Errorf("%s: metadata.name: missing", e.where)
			}
			if _, dup := seen[e.ref()]; dup {
				return nil // the same entity read twice (a directory and a file in it both given)
			}
			seen[e.ref()] = e.where
			out = append(out, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
