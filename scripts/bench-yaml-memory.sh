#!/usr/bin/env bash
# Peak memory (max RSS) and time of kcred's YAML config decoder on hostile inputs:
# a large flow collection, deep block nesting, a long block sequence, alias fan-out, the
# largest documents the node limit accepts, and a real-sized config for reference. Prints
# one line per input. Not part of the test command (speed and memory belong in benches);
# issue 12 defect 6 quotes its numbers (docs/reliability.md).
#
# Usage: scripts/bench-yaml-memory.sh [MIB]   (MIB: size of the big inputs, default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
mib="${1:-30}"
bytes=$((mib * 1024 * 1024))
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
nice -n 10 cargo build --quiet --release -p kcred-api --example decode_config_file \
    --target-dir target/bench-yaml
bin=target/bench-yaml/release/examples/decode_config_file

header='apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
'
python3 - "$work" "$bytes" "$header" <<'PY'
import sys
work, n, header = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def write(name, body):
    with open(f"{work}/{name}", "w") as f:
        f.write(header + body)
# A flow collection of one-letter scalars: the most nodes per byte.
write("flow.yaml", "providers: [" + "a," * (n // 2) + "a]\n")
# Deep block nesting: '- ' repeated on one line.
write("deep.yaml", "providers:\n" + "- " * (n // 2) + "x\n")
# A long block sequence, one short item per line.
write("block-seq.yaml", "providers:\n" + "- a\n" * (n // 4))
# Alias fan-out (billion laughs, bounded by the size).
laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
for i in range(1, 9):
    laughs += f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]\n"
write("laughs.yaml", "providers: []\n" + laughs)
# Alias fan-out within go-yaml's repetition limit: 1,000 aliases of a 1,000-item list.
write("fan.yaml", "providers: []\nanchor: &a [" + ", ".join(["x"] * 1000) + "]\nfan: [" + ", ".join(["*a"] * 1000) + "]\n")
# The largest documents the node limit (200,000) accepts: the decoder's worst case.
write("flow-at-limit.yaml", "providers: [" + "a," * 99_990 + "a]\n")
write("block-at-limit.yaml", "providers:\n" + "- a\n" * 99_990)
write("deep-at-limit.yaml", "providers:\n" + "- " * 199_990 + "x\n")
# A realistic config (10 providers).
real = "providers:\n"
for i in range(10):
    real += (f"  - name: provider-{i}\n    matchImages: [\"*.dkr.ecr.*.amazonaws.com\", \"*.azurecr.io\"]\n"
             "    defaultCacheDuration: 12h\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
             "    args: [get-credentials]\n")
write("real.yaml", real)
PY

printf '%-16s %12s %12s  %s\n' input bytes max_rss_kib outcome
for f in real flow deep block-seq laughs fan flow-at-limit block-at-limit deep-at-limit; do
    out="$( { /usr/bin/time -f 'RSS=%M' "$bin" "$work/$f.yaml"; } 2>&1 )"
    rss="$(printf '%s\n' "$out" | sed -n 's/^RSS=//p')"
    line="$(printf '%s\n' "$out" | grep -v '^RSS=' | head -1)"
    printf '%-16s %12s %12s  %s\n' "$f" "$(stat -c %s "$work/$f.yaml")" "$rss" "$line"
done
