// Package jaeger holds, in a module of its own, the Jaeger v2 binary the end-to-end tests search
// drift in (`make jaeger` builds it into bin/): Jaeger's dependencies stay out of the component's
// go.mod.
package jaeger
