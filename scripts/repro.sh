#!/usr/bin/env bash
# Checks that release builds are reproducible: clones the current commit into two different
# directories (different depths, so no path can coincide), runs scripts/dist.sh in each with
# its own fresh target directory, the same SOURCE_DATE_EPOCH and the same throwaway signing
# key, and compares binaries, tarball, SBOMs, .deb, .rpm, image layers, image manifest and
# checksums byte for byte. Two full release (LTO) builds: slow, so it is not part of
# scripts/test-all.sh.
#
# Usage: scripts/repro.sh [--workdir DIR] [dist.sh options, e.g. --target T]
#   --workdir DIR  where the two clones live (default /tmp/kcred-repro). Kept between runs:
#                  a rerun checks the current commit out in the same clones and reuses their
#                  own target directories (each build still only sees its own directory).
# The two builds run at the same time (nice 10). Exit status 0 when every artifact matches.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=/tmp/kcred-repro
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --workdir) work=${2:?--workdir needs a value}; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "repro.sh: note: uncommitted changes are not part of the comparison (commit $commit)" >&2
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
[ -f "$work/repro.key" ] || minisign -G -W -p "$work/repro.pub" -s "$work/repro.key" >/dev/null

dirs=("$work/a/kcred" "$work/b/deeper/path/kcred-src")
for d in "${dirs[@]}"; do
  if [ ! -d "$d/.git" ]; then
    mkdir -p "$(dirname "$d")"
    git clone --quiet --no-hardlinks "$root" "$d"
  fi
  git -C "$d" fetch --quiet "$root" HEAD
  git -C "$d" checkout --quiet --force FETCH_HEAD
  [ "$(git -C "$d" rev-parse HEAD)" = "$commit" ] || { echo "repro.sh: $d is not at $commit" >&2; exit 1; }
done
pids=()
for d in "${dirs[@]}"; do
  echo "== building in $d (log: $d.log)"
  (cd "$d" && start=$(date +%s) &&
    env -u CARGO_TARGET_DIR nice -n 10 bash scripts/dist.sh --sign-key "$work/repro.key" \
      ${args[@]+"${args[@]}"} > "$d.log" 2>&1 &&
    echo "   $d: $(( $(date +%s) - start )) s") &
  pids+=($!)
done
failed=0
for i in 0 1; do
  wait "${pids[$i]}" || { failed=1; echo "build in ${dirs[$i]} failed:"; tail -n 30 "${dirs[$i]}.log"; }
done
[ "$failed" = 0 ] || exit 1

a=${dirs[0]}/dist b=${dirs[1]}/dist
(cd "$a" && find . -type f | sort) > "$work/a.list"
(cd "$b" && find . -type f | sort) > "$work/b.list"
status=0
if ! cmp -s "$work/a.list" "$work/b.list"; then
  echo "DIFFERENT file lists:"; diff "$work/a.list" "$work/b.list" || true; status=1
fi
same=0 differ=0
while read -r f; do
  [ -f "$b/$f" ] || continue
  if cmp -s "$a/$f" "$b/$f"; then
    same=$((same + 1)); echo "same      $f"
  else
    differ=$((differ + 1)); echo "DIFFERENT $f"; status=1
  fi
done < "$work/a.list"
echo
echo "repro: commit $commit, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH: $same identical, $differ different"
exit "$status"
