#!/usr/bin/env bash
# Generates each component's metadata with mdatagen (internal/metadata, internal/metadatatest,
# documentation.md, the generated tests) from its metadata.yaml. With --check, fails when that
# changes a generated file or adds one: a generated file is stale.
# mdatagen comes from the tools module (internal/tools), v0.158.0: v0.161.0 needs a module that the
# proxy here does not serve; what it generates compiles against collector v0.161.0.
set -euo pipefail
cd "$(dirname "$0")/.."
components=(driftprocessor driftconnector driftview)

# What mdatagen writes, with its checksum: compared before and after with --check.
generated() {
  for c in "${components[@]}"; do
    find "$c" \( -name 'generated_*.go' -o -path '*/internal/metadatatest/*' -o -name documentation.md -o -name README.md \) -type f
  done | sort | xargs sha256sum
}
before=$(generated)

for c in "${components[@]}"; do
  (cd "$c" && go tool -modfile=../internal/tools/go.mod mdatagen metadata.yaml)
done
# mdatagen leaves imports in the order it wrote them; gofmt sorts them as the lint wants.
gofmt -w $(for c in "${components[@]}"; do find "$c" -name 'generated_*.go' -o -path '*/internal/metadatatest/*.go'; done)

if [[ "${1:-}" == "--check" ]] && [[ "$(generated)" != "$before" ]]; then
  echo "generated files were stale (now regenerated); run 'make generate' and commit the result:"
  diff <(echo "$before") <(generated) || true
  exit 1
fi
