#!/usr/bin/env bash
# Static (release artifact) vs dynamic (plain `cargo build --release`) binaries: size of each
# binary, and start-up wall time and peak RSS of static-credential-provider and
# acr-credential-provider on a no-network path, next to the cost of exec itself
# (a do-nothing static and dynamic executable). Prints numbers; asserts nothing.
#
# Usage: scripts/bench-static.sh [--dist DIR] [--runs N] [--no-build]
#   --dist DIR  release binaries from scripts/dist.sh (default dist/; built when missing)
#   --runs N    runs per measurement (default 300)
#   --no-build  use the dynamic binaries already in target/release (missing ones: n/a)
# The dynamic binaries are built here with `cargo build --release` (target/release).
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dist=dist runs=300 build=1
while [ $# -gt 0 ]; do
  case $1 in
    --dist) dist=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "bench-static.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
platform=linux-amd64
[ -x "$dist/kcred-$platform" ] || bash scripts/dist.sh --out "$dist"
mapfile -t bins < <(cd "$dist" && ls -1 | sed -n "s/-$platform\$//p" | sort)
pkgs=()
for b in "${bins[@]}"; do
  pkgs+=(-p "$(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys
name = sys.argv[1]
for p in json.load(sys.stdin)["packages"]:
    if any(t["name"] == name and "bin" in t["kind"] for t in p["targets"]):
        print(p["name"])' "$b")")
done
if [ "$build" = 1 ]; then
  echo "== building the dynamic binaries (cargo build --release)"
  nice -n 10 cargo build --release --locked --quiet --bins "${pkgs[@]}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A do-nothing program, static-pie and dynamic, for the cost of exec with and without ld.so.
printf 'fn main() {}\n' > "$work/noop.rs"
rustc -O -C panic=abort -C strip=symbols -o "$work/noop-dynamic" "$work/noop.rs"
rustc -O -C panic=abort -C strip=symbols -C target-feature=+crt-static \
  --target x86_64-unknown-linux-gnu -o "$work/noop-static" "$work/noop.rs"

# Peak RSS from wait4 includes the RSS of the process that forked the child (the kernel folds
# the old mm's high-water mark in at exec), so a tiny static C launcher starts the children,
# not Python; the "noop" rows show that floor.
cat > "$work/launch.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* launch N STDIN PROG ARGS...: runs PROG N times, prints "<wall ms> <maxrss KiB>" per run. */
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int n = atoi(argv[1]);
  for (int i = 0; i < n; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
      int in = open(argv[2], O_RDONLY), out = open("/dev/null", O_WRONLY);
      if (in < 0 || out < 0) _exit(126);
      dup2(in, 0); dup2(out, 1); dup2(out, 2);
      execv(argv[3], argv + 3);
      _exit(127);
    }
    int status; struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "%s: exit status %d\n", argv[3], status);
      return 1;
    }
    printf("%.4f %ld\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6, ru.ru_maxrss);
  }
  return 0;
}
EOF
cc -O2 -static -o "$work/launch" "$work/launch.c"

echo
echo "== sizes (bytes)"
printf '%-30s %12s %12s %8s\n' binary dynamic static ratio
for b in "${bins[@]}"; do
  s=$(stat -c %s "$dist/$b-$platform")
  if [ ! -f "target/release/$b" ]; then
    printf '%-30s %12s %12d %8s\n' "$b" n/a "$s" n/a
    continue
  fi
  d=$(stat -c %s "target/release/$b")
  awk -v b="$b" -v d="$d" -v s="$s" 'BEGIN { printf "%-30s %12d %12d %8.2f\n", b, d, s, s / d }'
done

# No-network inputs: the static provider reads a docker config; ACR's service principal
# with a client secret in azure.json answers with the secret, without calling AAD.
cat > "$work/docker-config.json" <<'EOF'
{"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNz"}}}
EOF
cat > "$work/azure.json" <<'EOF'
{"cloud": "AzurePublicCloud", "tenantId": "t", "aadClientId": "sp-id", "aadClientSecret": "s3cret"}
EOF
req() { printf '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"%s"}' "$1"; }
req registry.example.com/app:v1 > "$work/static.req"
req myregistry.azurecr.io/app:v1 > "$work/acr.req"

echo
echo "== start-up: $runs runs each, wall time per exec (ms) and peak RSS (KiB)"
python3 - "$runs" <<PY
import os, statistics, subprocess, sys
runs = int(sys.argv[1])
work, dist, plat = "$work", "$dist", "$platform"
cases = [
    ("exec only: noop", "dynamic", ["$work/noop-dynamic"], None),
    ("exec only: noop", "static", ["$work/noop-static"], None),
    ("static-credential-provider", "dynamic",
     ["target/release/static-credential-provider", f"{work}/docker-config.json"], f"{work}/static.req"),
    ("static-credential-provider", "static",
     [f"{dist}/static-credential-provider-{plat}", f"{work}/docker-config.json"], f"{work}/static.req"),
    ("acr-credential-provider", "dynamic",
     ["target/release/acr-credential-provider", f"{work}/azure.json"], f"{work}/acr.req"),
    ("acr-credential-provider", "static",
     [f"{dist}/acr-credential-provider-{plat}", f"{work}/azure.json"], f"{work}/acr.req"),
]
launch = os.path.join(work, "launch")
def batch(argv, stdin_path, n):
    out = subprocess.run([launch, str(n), stdin_path or os.devnull] + argv,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{argv[0]}: {out.stderr}")
    return [(float(a), int(b)) for a, b in (l.split() for l in out.stdout.splitlines())]
print(f"{'binary':30} {'link':8} {'median':>8} {'p10':>8} {'p90':>8} {'RSS KiB':>8}")
# Interleave static and dynamic runs so machine load hits both alike.
results = {c[:2]: [] for c in cases}
for c in cases:
    batch(c[2], c[3], 3)  # warm the page cache
chunk = 10
for _ in range(max(1, runs // chunk)):
    for c in cases:
        results[c[:2]].extend(batch(c[2], c[3], chunk))
for c in cases:
    r = results[c[:2]]
    ms = sorted(x[0] for x in r)
    q = statistics.quantiles(ms, n=10)
    rss = sorted(x[1] for x in r)
    print(f"{c[0]:30} {c[1]:8} {statistics.median(ms):8.3f} {q[0]:8.3f} {q[-1]:8.3f} {rss[len(rss) // 2]:8d}")
PY
echo
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
