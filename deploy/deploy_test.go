// Package deploy holds the Kubernetes manifests of otelcol-drift (Helm values for the official
// opentelemetry-collector chart, OpenTelemetryCollector resources for the Operator); this test
// validates them against the chart's values schema and the Operator's CRD with a JSON-schema
// library.
package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var sources = filepath.Join("..", "testdata", "intent-sources", "kubernetes-deploy")

func readYAML(t *testing.T, path string) map[string]any {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, yaml.Unmarshal(data, &v), path)
	return v
}

// viaJSON gives v the types a JSON-schema library validates (numbers as json.Number).
func viaJSON(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return doc
}

// merge lays values over defaults as Helm does: maps merge key by key, a null removes the key,
// anything else replaces.
func merge(defaults, values map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range values {
		if v == nil {
			delete(out, k)
			continue
		}
		dm, ok1 := out[k].(map[string]any)
		vm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = merge(dm, vm)
			continue
		}
		out[k] = v
	}
	return out
}

func compile(t *testing.T, name string, schema any) *jsonschema.Schema {
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(name, viaJSON(t, schema)))
	s, err := c.Compile(name)
	require.NoError(t, err)
	return s
}

// TestHelmValues: each values file, laid over the chart's defaults as helm does, validates against
// the chart's values schema; and a misspelt key would not.
func TestHelmValues(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sources, "opentelemetry-collector-chart-values.schema.json"))
	require.NoError(t, err)
	var schemaDoc any
	require.NoError(t, json.Unmarshal(data, &schemaDoc))
	schema := compile(t, "values.schema.json", schemaDoc)
	defaults := readYAML(t, filepath.Join(sources, "opentelemetry-collector-chart-values.yaml"))
	for _, f := range []string{"gateway-values.yaml", "agent-values.yaml"} {
		values := readYAML(t, filepath.Join("helm", f))
		assert.NoError(t, schema.Validate(viaJSON(t, merge(defaults, values))), f)
	}
	bad := merge(defaults, map[string]any{"mode": "deployment", "replicas": 3}) // replicaCount, not replicas
	assert.Error(t, schema.Validate(viaJSON(t, bad)), "the schema refuses an unknown key: the check can fail")
}

// TestOperatorResources: each OpenTelemetryCollector validates against the Operator's CRD
// (v1beta1), and the gateway mounts its intent from a ConfigMap.
func TestOperatorResources(t *testing.T) {
	crd := readYAML(t, filepath.Join(sources, "opentelemetry-operator-crd-opentelemetrycollector.yaml"))
	var schema *jsonschema.Schema
	for _, v := range crd["spec"].(map[string]any)["versions"].([]any) {
		version := v.(map[string]any)
		if version["name"] == "v1beta1" {
			schema = compile(t, "v1beta1", version["schema"].(map[string]any)["openAPIV3Schema"])
		}
	}
	require.NotNil(t, schema)
	for _, f := range []string{"gateway.yaml", "agent.yaml"} {
		doc := readYAML(t, filepath.Join("operator", f))
		assert.NoError(t, schema.Validate(viaJSON(t, doc)), f)
	}
	gateway := readYAML(t, filepath.Join("operator", "gateway.yaml"))
	spec := gateway["spec"].(map[string]any)
	assert.Equal(t, "drift-intent", spec["volumes"].([]any)[0].(map[string]any)["configMap"].(map[string]any)["name"])
	bad := map[string]any{"apiVersion": "opentelemetry.io/v1beta1", "kind": "OpenTelemetryCollector", "spec": map[string]any{"mode": "everywhere", "config": map[string]any{}}}
	assert.Error(t, schema.Validate(viaJSON(t, bad)), "an unknown mode is refused: the check can fail")
}
