// Package enforcing turns an intent into the policies that enforce it: a Kubernetes NetworkPolicy
// per service (ingress from its declared callers), Istio AuthorizationPolicies (ALLOW from the
// declared callers' principals, in dry run unless asked otherwise) and Otterize ClientIntents.
package enforcing

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/driftprocessor/driftprocessor/internal/intent"
)

// Options of an export.
type Options struct {
	Label     string // the pod label that names a service (app)
	Namespace string // the namespace the policies go in, and the services run in
	Enforce   bool   // Istio: enforce, rather than the istio.io/dry-run annotation
}

// services are the model's services, in file order, with their declared callers.
type service struct {
	name    string
	ingress bool
	ports   []int32
	callers []string
}

func services(m *intent.Compiled) []service {
	var out []service
	callers := map[string][]string{}
	m.Declared(func(from, to intent.NodeID, _ int) {
		callers[m.Node(to).Name] = append(callers[m.Node(to).Name], m.Node(from).Name)
	})
	for _, n := range m.Model.Nodes {
		s := service{name: n.Name, ingress: n.Ingress, callers: callers[n.Name]}
		for _, a := range n.Aliases {
			if host, port, ok := strings.Cut(a, ":"); ok && host == n.Name {
				if p, err := strconv.ParseInt(port, 10, 32); err == nil {
					s.ports = append(s.ports, int32(p))
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// NetworkPolicies is a NetworkPolicy per service and resource: ingress from its declared callers on
// its ports (name:port aliases; every port without one), and from anywhere when it is an ingress.
func NetworkPolicies(m *intent.Compiled, o Options) []networkingv1.NetworkPolicy {
	var out []networkingv1.NetworkPolicy
	tcp := corev1.ProtocolTCP
	for _, s := range services(m) {
		p := networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: o.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "driftctl"}},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{o.Label: s.name}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{},
			},
		}
		if s.ingress {
			p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{})
		}
		if len(s.callers) > 0 {
			rule := networkingv1.NetworkPolicyIngressRule{}
			for _, c := range s.callers {
				rule.From = append(rule.From, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{o.Label: c}}})
			}
			for _, port := range s.ports {
				v := intstr.FromInt32(port)
				rule.Ports = append(rule.Ports, networkingv1.NetworkPolicyPort{Port: &v, Protocol: &tcp})
			}
			p.Spec.Ingress = append(p.Spec.Ingress, rule)
		}
		out = append(out, p)
	}
	return out
}

// AuthorizationPolicies is an Istio AuthorizationPolicy per service: ALLOW from the principals of
// its declared callers (their service accounts, named as the services), from anywhere when it is an
// ingress; with the istio.io/dry-run annotation unless Enforce.
func AuthorizationPolicies(m *intent.Compiled, o Options) []map[string]any {
	var out []map[string]any
	for _, s := range services(m) {
		meta := map[string]any{"name": s.name, "namespace": o.Namespace}
		if !o.Enforce {
			meta["annotations"] = map[string]any{"istio.io/dry-run": "true"}
		}
		var rules []any
		if s.ingress {
			rules = append(rules, map[string]any{})
		}
		if len(s.callers) > 0 {
			var principals []any
			for _, c := range s.callers {
				principals = append(principals, "cluster.local/ns/"+o.Namespace+"/sa/"+c)
			}
			rules = append(rules, map[string]any{"from": []any{map[string]any{"source": map[string]any{"principals": principals}}}})
		}
		spec := map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{o.Label: s.name}},
			"action":   "ALLOW",
		}
		if len(rules) > 0 {
			spec["rules"] = rules
		}
		out = append(out, map[string]any{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": meta, "spec": spec})
	}
	return out
}

// ClientIntents is an Otterize ClientIntents per service with dependencies: the services and
// resources it calls, as Otterize's intents operator reads them.
func ClientIntents(m *intent.Compiled, o Options) []map[string]any {
	targets := map[string][]any{}
	m.Declared(func(from, to intent.NodeID, _ int) {
		targets[m.Node(from).Name] = append(targets[m.Node(from).Name], map[string]any{"kubernetes": map[string]any{"name": m.Node(to).Name}})
	})
	var out []map[string]any
	for _, n := range m.Model.Nodes {
		if len(targets[n.Name]) == 0 {
			continue
		}
		out = append(out, map[string]any{
			"apiVersion": "k8s.otterize.com/v2alpha1", "kind": "ClientIntents",
			"metadata": map[string]any{"name": n.Name, "namespace": o.Namespace},
			"spec":     map[string]any{"workload": map[string]any{"name": n.Name}, "targets": targets[n.Name]},
		})
	}
	return out
}

// YAML writes documents (Kubernetes types or plain maps) as one multi-document YAML stream.
func YAML[T any](docs []T) ([]byte, error) {
	var b bytes.Buffer
	for _, d := range docs {
		j, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		var generic any
		if err := json.Unmarshal(j, &generic); err != nil {
			return nil, err
		}
		dropEmpty(generic)
		y, err := yaml.Marshal(generic)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes(), nil
}

// dropEmpty removes the null creationTimestamp the Kubernetes types write.
func dropEmpty(v any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			if x == nil {
				delete(m, k)
				continue
			}
			dropEmpty(x)
		}
	}
	if s, ok := v.([]any); ok {
		for _, x := range s {
			dropEmpty(x)
		}
	}
}
