#!/usr/bin/env bash
# Checks that release builds are reproducible: clones the current commit into two different
# directories (different depths, so no path can coincide), runs scripts/dist.sh in each with
# its own fresh target directory, the same SOURCE_DATE_EPOCH and the same throwaway signing
# key, and compares binaries, tarball, SBOMs, .deb, .rpm, image layers, image manifest and
# checksums byte for byte. Two full release (LTO) builds: slow, so it is not part of
# scripts/test-all.sh.
#
# Usage: scripts/repro.sh [--keep] [dist.sh options, e.g. --target T]
# Exit status 0 when every artifact matches.
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
keep=0
args=()
for a in "$@"; do
  if [ "$a" = --keep ]; then keep=1; else args+=("$a"); fi
done

commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "repro.sh: note: uncommitted changes are not part of the comparison (commit $commit)" >&2
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
work=$(mktemp -d /tmp/kcred-repro.XXXXXX)
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
minisign -G -W -p "$work/repro.pub" -s "$work/repro.key" >/dev/null

dirs=("$work/a/kcred" "$work/b/deeper/path/kcred-src")
for d in "${dirs[@]}"; do
  mkdir -p "$(dirname "$d")"
  git clone --quiet --no-hardlinks "$root" "$d"
  git -C "$d" checkout --quiet "$commit"
done
for d in "${dirs[@]}"; do
  echo "== building in $d"
  start=$(date +%s)
  (cd "$d" && env -u CARGO_TARGET_DIR nice -n 10 bash scripts/dist.sh --sign-key "$work/repro.key" "${args[@]}") \
    > "$d.log" 2>&1 || { tail -n 30 "$d.log"; exit 1; }
  echo "   $(( $(date +%s) - start )) s"
done

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
[ "$keep" = 0 ] || echo "kept: $work"
exit "$status"
