package importing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
	networkingv1 "k8s.io/api/networking/v1"
)

// Documents reads the YAML documents of a file, each with the line it starts on.
func Documents(file string, data []byte, fn func(doc *yaml.Node, line int) error) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		if err := fn(doc.Content[0], doc.Content[0].Line); err != nil {
			return err
		}
	}
}

// Strict decodes a YAML node into v (a Kubernetes API type) through its JSON form, refusing fields
// the type does not have, as `kubectl apply --validate=strict` does.
func Strict(n *yaml.Node, v any) error {
	var generic any
	if err := n.Decode(&generic); err != nil {
		return err
	}
	b, err := json.Marshal(generic)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// NetworkPolicies imports Kubernetes NetworkPolicy files: each policy's pods are a service (named by
// label); an ingress rule's pod selectors are callers that depend on it, an ingress rule from
// anywhere makes it an ingress, an egress rule's pod selectors are dependencies of it; ports become
// name:port aliases; a policy's namespace, and a peer's namespaceSelector by name, are zones. What
// names no service (a namespace or address block alone, a policy for every
// pod) is skipped and counted.
func NetworkPolicies(label string, files ...string) (*Result, error) {
	r := &Result{}
	return r, eachDocument(files, func(file string, doc *yaml.Node, line int) error {
		return r.networkPolicy(label, file, doc, line)
	})
}

// eachDocument hands fn every YAML document of the files, in order, with its file and line.
func eachDocument(files []string, fn func(file string, doc *yaml.Node, line int) error) error {
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if err := Documents(file, data, func(doc *yaml.Node, line int) error { return fn(file, doc, line) }); err != nil {
			return err
		}
	}
	return nil
}

func (r *Result) networkPolicy(label, file string, doc *yaml.Node, line int) error {
	where := at(file, line)
	var head struct {
		Kind string `yaml:"kind"`
	}
	if err := doc.Decode(&head); err != nil || head.Kind != "NetworkPolicy" {
		r.Skip(where, "a "+orUnknown(head.Kind)+" document", "not a NetworkPolicy")
		return nil
	}
	var p networkingv1.NetworkPolicy
	if err := Strict(doc, &p); err != nil {
		return fmt.Errorf("%s: NetworkPolicy: %w", where, err)
	}
	source := fmt.Sprintf("NetworkPolicy %s (%s)", p.Name, where)
	target := p.Spec.PodSelector.MatchLabels[label]
	if target == "" {
		why := "its podSelector has no " + label + " label: it is not one service's"
		if len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0 {
			why = "it selects every pod (a default policy), so it declares no service's dependencies"
		}
		r.Skip(where, "NetworkPolicy "+p.Name, why)
		return nil
	}
	svc := r.Service(target, source)
	svc.Source = source // its own policy, though a policy read before may have named it as a peer
	if p.Namespace != "" {
		svc.Zone = p.Namespace
	}
	for i, rule := range p.Spec.Ingress {
		for _, port := range rule.Ports {
			if port.Port != nil {
				svc.Port(port.Port.IntValue())
			}
		}
		if len(rule.From) == 0 {
			svc.Ingress = true
			continue
		}
		for j, peer := range rule.From {
			caller, why := peerService(peer, label)
			if caller == "" {
				r.Skip(where, fmt.Sprintf("NetworkPolicy %s ingress[%d].from[%d]", p.Name, i, j), why)
				continue
			}
			if ns := namespaceOf(peer); ns != "" {
				r.Service(caller, source).Zone = ns
			}
			r.Service(caller, source)
			r.Depend(caller, target, source)
		}
	}
	for i, rule := range p.Spec.Egress {
		if len(rule.To) == 0 {
			r.Skip(where, fmt.Sprintf("NetworkPolicy %s egress[%d]", p.Name, i), "egress to anywhere names no dependency")
			continue
		}
		for j, peer := range rule.To {
			callee, why := peerService(peer, label)
			if callee == "" {
				r.Skip(where, fmt.Sprintf("NetworkPolicy %s egress[%d].to[%d]", p.Name, i, j), why)
				continue
			}
			r.Service(callee, source)
			r.Depend(target, callee, source)
		}
	}
	return nil
}

// namespaceOf is the namespace a peer's namespaceSelector names (kubernetes.io/metadata.name), if one.
func namespaceOf(peer networkingv1.NetworkPolicyPeer) string {
	if peer.NamespaceSelector == nil {
		return ""
	}
	return peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
}

// peerService is the service a policy peer names, or why it names none.
func peerService(peer networkingv1.NetworkPolicyPeer, label string) (string, string) {
	switch {
	case peer.IPBlock != nil:
		return "", "an address block, not a service"
	case peer.PodSelector == nil:
		return "", "a namespace alone, not a service"
	}
	if name := peer.PodSelector.MatchLabels[label]; name != "" {
		return name, ""
	}
	return "", "its podSelector has no " + label + " label"
}

func orUnknown(kind string) string {
	if kind == "" {
		return "kind-less"
	}
	return kind
}
