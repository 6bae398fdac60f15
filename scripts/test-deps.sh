#!/usr/bin/env bash
# Installs what `make test` needs beyond Go, make and git: the Debian packages prometheus (the
# end-to-end and demo tests scrape with a real Prometheus server) and chromium (the demo test opens
# the reflexion map in headless Chromium). Jaeger is built from the Go module proxy by `make jaeger`.
# As root it installs what is missing with apt-get; otherwise it stops at once with the one command
# that would.
set -euo pipefail
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
((${#need[@]})) || exit 0
cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${need[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "make test needs ${need[*]}: run as root: $cmd" >&2
  exit 1
fi
echo "test-deps: installing ${need[*]}"
bash -c "$cmd"
