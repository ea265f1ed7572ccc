#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60), seeded from
# tests/conformance (fuzz/seeds.py). See docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Environment: KCRED_FUZZ_JOBS (parallel libFuzzer jobs per target, default 1),
# KCRED_FUZZ_SANITIZER (address | none, default address), KCRED_FUZZ_BUILD_ONLY=1.
# Exits non-zero when a target crashes; the crashing input is in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
jobs=${KCRED_FUZZ_JOBS:-1}
sanitizer=${KCRED_FUZZ_SANITIZER:-address}

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "== installing a nightly toolchain (cargo-fuzz needs -Zsanitizer and libFuzzer)"
  rustup toolchain install nightly --profile minimal >/dev/null
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

python3 fuzz/seeds.py fuzz/corpus >/dev/null
echo "== building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
start=$(date +%s)
(cd fuzz && cargo +nightly fuzz build -O --sanitizer "$sanitizer")
echo "== built in $(( $(date +%s) - start )) s"
[ "${KCRED_FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

failed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  t0=$(date +%s)
  log="fuzz/artifacts/$t/last-run.log"
  if (cd fuzz && cargo +nightly fuzz run -O --sanitizer "$sanitizer" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" -max_len=16384 \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -seed="${KCRED_FUZZ_SEED:-0}" \
        -artifact_prefix="artifacts/$t/") >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
    printf '%-28s ok      %6s s  %10s runs\n' "$t" "$(( $(date +%s) - t0 ))" "$runs"
  else
    printf '%-28s FAILED  (see %s)\n' "$t" "$log"
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -5 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds} s each without a crash"
