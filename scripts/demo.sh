#!/usr/bin/env bash
# kcred's main job: build the release binaries, then do what a kubelet does for a pull of a
# private image: validate the credential provider config, explain which providers match, exec
# the matching plugin (the static provider with a docker config.json) and print the
# credentials the kubelet would try, in order. Passwords are redacted unless asked for.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building release binaries"
cargo build --release --quiet -p kcred-cli -p kcred-static-provider
bin=target/release

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cp "$bin/static-credential-provider" "$work/bin/"
install -m 600 examples/docker-config.json "$work/docker-config.json"
sed "s#examples/docker-config.json#$work/docker-config.json#" \
  examples/credential-provider-config.yaml > "$work/config.yaml"

run() { echo; echo "\$ $*"; "$@" || echo "(exit $?)"; }
run "$bin/kcred" validate "$work/config.yaml"
run "$bin/kcred" match '*.registry.example.com' team.registry.example.com/app:v1
run "$bin/kcred" match '*.example.com' team.registry.example.com/app:v1
run "$bin/kcred" explain registry.example.com/team/app:v1 --config "$work/config.yaml"
run "$bin/kcred" get registry.example.com/team/app:v1 --config "$work/config.yaml" --bin-dir "$work/bin"
run "$bin/kcred" get nginx:1.27 --config "$work/config.yaml" --bin-dir "$work/bin"
run "$bin/kcred" get quay.io/org/app --config "$work/config.yaml" --bin-dir "$work/bin"
echo
ls -l "$bin/kcred" "$bin/static-credential-provider"
