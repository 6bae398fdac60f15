#!/usr/bin/env bash
# Builds the module and runs its unit tests against the next collector release, without touching
# go.mod: every collector module of go.mod is raised in a copy (go -modfile) to NEXT_CORE (v0.x
# modules) or NEXT_STABLE (v1.x modules).
set -euo pipefail
NEXT_CORE=${NEXT_CORE:-v0.165.0}
NEXT_STABLE=${NEXT_STABLE:-v1.71.0}
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp go.mod "$tmp/go.mod"
cp go.sum "$tmp/go.sum"

args=()
while read -r mod ver; do
  case "$ver" in
    v0.*) args+=("$mod@$NEXT_CORE") ;;
    v1.*) args+=("$mod@$NEXT_STABLE") ;;
  esac
done < <(go list -m -f '{{if not .Main}}{{.Path}} {{.Version}}{{end}}' all | grep '^go.opentelemetry.io/collector/' | grep -v '^go.opentelemetry.io/collector/pdata/testdata ')

echo "check-next: raising ${#args[@]} collector modules to $NEXT_CORE / $NEXT_STABLE"
go get -modfile="$tmp/go.mod" "${args[@]}" 2>"$tmp/get.log" || { cat "$tmp/get.log"; exit 1; }
go mod tidy -modfile="$tmp/go.mod"
grep -E 'go.opentelemetry.io/collector/(component|processor|pdata) ' "$tmp/go.mod" | sed 's/^/check-next:   /'
go build -modfile="$tmp/go.mod" ./...
go vet -modfile="$tmp/go.mod" ./...
go test -modfile="$tmp/go.mod" -count=1 $(go list ./... | grep -v /test/e2e)
