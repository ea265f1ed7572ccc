#!/usr/bin/env bash
# Builds kcred's release artifacts into dist/ (docs/install.md describes each one):
#
#   <binary>-<os>-<arch>[.exe]        every binary, statically linked (static-pie glibc on Linux)
#   kcred-<version>-<os>-<arch>.tar.gz binaries, LICENSE, README, docs, examples, SBOMs
#   sbom/<binary>-<os>-<arch>.cdx.json CycloneDX SBOM recovered from the binary (cargo-auditable)
#   kcred_<version>_<arch>.deb, kcred-<version>-1.<arch>.rpm   (Linux targets)
#   kcred-<version>-<os>-<arch>.oci.tar + oci/  OCI image FROM scratch (Linux targets)
#   SHA256SUMS, SHA256SUMS.minisig, minisign.pub  (signature when a key is given)
#
# Usage: scripts/dist.sh [--version V] [--target TRIPLE] [--out DIR] [--sign-key FILE]
#                        [--skip-build]
#   --version V      artifact version (default: the workspace version in Cargo.toml)
#   --target TRIPLE  Rust target (default x86_64-unknown-linux-gnu); see docs/install.md
#   --out DIR        output directory (default dist/), emptied first
#   --sign-key FILE  minisign secret key (default: $KCRED_SIGN_KEY); without one the
#                    checksums are left unsigned and the script says so. A password for the
#                    key is read from $KCRED_SIGN_PASSWORD (keys made with `minisign -G -W`
#                    have none).
#   --skip-build     package the binaries already built for the target
# Environment:
#   SOURCE_DATE_EPOCH       timestamps in every archive (default: the last commit's time)
#   KCRED_IMAGE_ENTRYPOINT  binary the OCI image runs (default: kcred)
#   CARGO_TARGET_DIR        as for cargo (default: target/)
#
# Reproducible: the same commit, SOURCE_DATE_EPOCH and toolchain give byte-identical
# binaries, tarball, packages and image layers in any directory (scripts/repro.sh checks).
set -euo pipefail
export LC_ALL=C TZ=UTC
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=""
target=x86_64-unknown-linux-gnu
out=dist
sign_key=${KCRED_SIGN_KEY:-}
skip_build=0
while [ $# -gt 0 ]; do
  case $1 in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --target) target=${2:?--target needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --sign-key) sign_key=${2:?--sign-key needs a value}; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "dist.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "dist.sh: $*" >&2; exit 1; }
step() { echo "== $*"; }

if [ -z "$version" ]; then
  version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
fi
version=${version#v}
[[ $version =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] ||
  die "--version '$version': must start with a digit and hold only [0-9A-Za-z.+~-]"
if [ -n "$sign_key" ] && [ ! -f "$sign_key" ]; then
  die "--sign-key '$sign_key': no such file"
fi

# Target triple -> release names. Unknown triples are refused rather than guessed.
case $target in
  x86_64-*) arch=amd64; deb_arch=amd64; rpm_arch=x86_64 ;;
  aarch64-*) arch=arm64; deb_arch=arm64; rpm_arch=aarch64 ;;
  *) die "--target '$target': only x86_64-* and aarch64-* are in the release matrix" ;;
esac
case $target in
  *-linux-gnu|*-linux-musl) os=linux; exe="" ;;
  *-windows-msvc|*-windows-gnu|*-windows-gnullvm) os=windows; exe=.exe ;;
  *) die "--target '$target': only Linux (gnu, musl) and Windows targets are in the release matrix" ;;
esac
platform=$os-$arch

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null) ||
    die "SOURCE_DATE_EPOCH is unset and this is not a git checkout"
fi
export SOURCE_DATE_EPOCH
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH '$SOURCE_DATE_EPOCH': not a number"
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
source_url=$(sed -n '/^\[workspace.package\]/,/^\[/s/^repository *= *"\(.*\)"/\1/p' Cargo.toml)
entrypoint=${KCRED_IMAGE_ENTRYPOINT:-kcred}

# Every binary of the workspace except test fixtures, as "package binary".
mapfile -t bins < <(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c '
import json, sys
meta = json.load(sys.stdin)
for pkg in sorted(meta["packages"], key=lambda p: p["name"]):
    if pkg["name"] == "kcred-test-plugin":
        continue  # a deliberately misbehaving plugin for tests
    for t in pkg["targets"]:
        if "bin" in t["kind"]:
            print(pkg["name"], t["name"])')
[ ${#bins[@]} -gt 0 ] || die "no binaries found in the workspace"
# On PATH in packages; everything else is a kubelet credential provider plugin.
is_tool() { case $1 in kcred|docker-credential-kcred) return 0 ;; *) return 1 ;; esac; }

target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
bin_dir=$target_dir/$target/release

auditable_version=0.7.7
auditable2cdx_version=0.1.0
ensure_tool() { # ensure_tool BINARY CRATE VERSION: install a pinned crates.io tool if missing
  command -v "$1" >/dev/null 2>&1 && return 0
  step "installing $2 $3 from crates.io"
  cargo install --locked --quiet "$2@$3"
}

if [ "$skip_build" = 0 ]; then
  ensure_tool cargo-auditable cargo-auditable "$auditable_version"
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  # crt-static: static-pie glibc (Linux gnu) / static CRT (Windows msvc); musl is static
  # already. An explicit --target keeps RUSTFLAGS off build scripts and proc-macros.
  # The remaps make the binaries independent of where the checkout and cargo's registry are.
  rustflags="-C target-feature=+crt-static --remap-path-prefix=$root=/kcred"
  rustflags+=" --remap-path-prefix=$cargo_home=/cargo"
  case $target_dir in "$root"/*) ;; *) rustflags+=" --remap-path-prefix=$target_dir=/target" ;; esac
  pkgs=()
  for b in "${bins[@]}"; do pkgs+=(-p "${b%% *}"); done
  step "building ${#bins[@]} binaries for $target (release: LTO, static)"
  start=$(date +%s)
  # Same for C code that build scripts compile for the target (ring, aws-lc-sys via cc).
  cflags="-ffile-prefix-map=$root=/kcred -ffile-prefix-map=$cargo_home=/cargo"
  case $target_dir in "$root"/*) ;; *) cflags+=" -ffile-prefix-map=$target_dir=/target" ;; esac
  env "CFLAGS_${target//-/_}=$cflags" RUSTFLAGS="$rustflags" CARGO_TARGET_DIR="$target_dir" \
    cargo auditable build --release --locked --target "$target" --bins "${pkgs[@]}"
  echo "built in $(( $(date +%s) - start )) s"
fi

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Deterministic archives: sorted names, fixed owner and mtime, no atime/ctime.
det_tar() { # det_tar OUT.tar DIR ENTRY...: uncompressed, reproducible tar of DIR/ENTRY...
  local dest=$1 dir=$2; shift 2
  tar --create --file "$dest" --directory "$dir" --format=gnu --sort=name \
    --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' "$@"
}
normalize_mtimes() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

step "binaries -> $out"
for b in "${bins[@]}"; do
  name=${b#* }
  src=$bin_dir/$name$exe
  [ -f "$src" ] || die "$src is missing (build it, or drop --skip-build)"
  install -m 0755 "$src" "$out/$name-$platform$exe"
done

step "SBOMs (CycloneDX, from the dependency list cargo-auditable embedded in each binary)"
ensure_tool auditable2cdx auditable2cdx "$auditable2cdx_version"
mkdir -p "$out/sbom"
for b in "${bins[@]}"; do
  name=${b#* }
  sbom=$out/sbom/$name-$platform.cdx.json
  auditable2cdx "$out/$name-$platform$exe" > "$work/sbom.json" ||
    die "$name: no cargo-auditable data in the binary (was it built with cargo auditable?)"
  # auditable2cdx stamps a random serial number and the current time: derive both from the
  # binary's digest and SOURCE_DATE_EPOCH so the SBOM is reproducible too.
  python3 - "$work/sbom.json" "$out/$name-$platform$exe" "$created" "$name" "$version" > "$sbom" <<'PY'
import hashlib, json, sys, uuid
path, binary, created, name, version = sys.argv[1:]
doc = json.load(open(path))
digest = hashlib.sha256(open(binary, "rb").read()).hexdigest()
doc["serialNumber"] = "urn:uuid:" + str(uuid.UUID(digest[:32], version=5))
meta = doc.setdefault("metadata", {})
meta["timestamp"] = created
comp = meta.setdefault("component", {})
comp.setdefault("name", name)
comp["hashes"] = [{"alg": "SHA-256", "content": digest}]
comp.setdefault("properties", []).append({"name": "kcred:release-version", "value": version})
json.dump(doc, sys.stdout, indent=2, sort_keys=True)
sys.stdout.write("\n")
PY
done

step "tarball"
tar_name=kcred-$version-$platform
stage=$work/$tar_name
mkdir -p "$stage/bin" "$stage/examples" "$stage/sbom"
for b in "${bins[@]}"; do
  name=${b#* }
  install -m 0755 "$out/$name-$platform$exe" "$stage/bin/$name$exe"
done
cp LICENSE README.md "$stage/"
cp -r docs "$stage/docs"
cp -R examples/. "$stage/examples/"
cp "$out"/sbom/*.cdx.json "$stage/sbom/"
normalize_mtimes "$stage"
det_tar "$work/$tar_name.tar" "$work" "$tar_name"
gzip -n -9 < "$work/$tar_name.tar" > "$out/$tar_name.tar.gz"

if [ "$os" = linux ]; then
  # One file system tree for the .deb, the .rpm and the image:
  #   /usr/bin/{kcred,docker-credential-kcred}
  #   /usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/<plugins>
  #   /usr/share/doc/kcred/{LICENSE,README.md,docs/,examples/}
  plugin_dir=usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec
  fsroot=$work/fsroot
  mkdir -p "$fsroot/usr/bin" "$fsroot/$plugin_dir" "$fsroot/usr/share/doc/kcred/examples"
  for b in "${bins[@]}"; do
    name=${b#* }
    if is_tool "$name"; then dest=$fsroot/usr/bin; else dest=$fsroot/$plugin_dir; fi
    install -m 0755 "$out/$name-$platform" "$dest/$name"
  done
  cp LICENSE README.md "$fsroot/usr/share/doc/kcred/"
  cp -r docs "$fsroot/usr/share/doc/kcred/docs"
  cp -R examples/. "$fsroot/usr/share/doc/kcred/examples/"
  find "$fsroot" -type d -exec chmod 0755 {} +
  find "$fsroot" -type f ! -perm -u+x -exec chmod 0644 {} +
  normalize_mtimes "$fsroot"

  step ".deb"
  command -v dpkg-deb >/dev/null || die "dpkg-deb is required for the .deb (apt-get install dpkg)"
  debroot=$work/deb
  cp -a "$fsroot" "$debroot"
  mkdir -p "$debroot/DEBIAN"
  installed_kb=$(du -sk --apparent-size "$fsroot" | cut -f1)
  sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb_arch/" -e "s/@SIZE@/$installed_kb/" \
    packaging/deb/control > "$debroot/DEBIAN/control"
  (cd "$debroot" && find usr -type f | sort | xargs md5sum) > "$debroot/DEBIAN/md5sums"
  chmod 0644 "$debroot/DEBIAN/control" "$debroot/DEBIAN/md5sums"
  normalize_mtimes "$debroot"
  dpkg-deb --root-owner-group -Zxz --build "$debroot" \
    "$out/kcred_${version}_$deb_arch.deb" >/dev/null

  step ".rpm"
  command -v rpmbuild >/dev/null || die "rpmbuild is required for the .rpm (apt-get install rpm)"
  rpm_version=${version//-/\~}
  rpmtop=$work/rpm
  mkdir -p "$rpmtop"/{BUILD,RPMS,SOURCES,SPECS,SRPMS,BUILDROOT}
  rpmbuild -bb --quiet --target "$rpm_arch-linux" \
    --define "_topdir $rpmtop" \
    --define "kcred_version $rpm_version" \
    --define "kcred_fsroot $fsroot" \
    --define "kcred_plugin_dir /$plugin_dir" \
    --define "_buildhost reproducible" \
    --define "use_source_date_epoch_as_buildtime 1" \
    --define "clamp_mtime_to_source_date_epoch 1" \
    --define "_build_id_links none" \
    --define "debug_package %{nil}" \
    --define "__os_install_post %{nil}" \
    --define "_binary_payload w9.gzdio" \
    packaging/rpm/kcred.spec >/dev/null
  cp "$rpmtop/RPMS/$rpm_arch/kcred-$rpm_version-1.$rpm_arch.rpm" "$out/"

  step "OCI image (FROM scratch, entrypoint $entrypoint)"
  imgroot=$work/imgroot
  mkdir -p "$imgroot/usr/share/doc"
  cp -a "$fsroot/usr/bin" "$fsroot/usr/libexec" "$imgroot/usr/"
  mkdir -p "$imgroot/usr/share/doc/kcred/examples"
  cp LICENSE "$imgroot/usr/share/doc/kcred/"
  cp examples/node-credential-provider-config.yaml "$imgroot/usr/share/doc/kcred/examples/"
  find "$imgroot" -type d -exec chmod 0755 {} +
  normalize_mtimes "$imgroot"
  case $entrypoint in
    /*) entry_path=$entrypoint ;;
    kcred|docker-credential-kcred) entry_path=/usr/bin/$entrypoint ;;
    *) entry_path=/$plugin_dir/$entrypoint ;;
  esac
  [ -x "$imgroot$entry_path" ] || die "KCRED_IMAGE_ENTRYPOINT '$entrypoint': not in the image"
  det_tar "$work/layer.tar" "$imgroot" usr
  python3 packaging/oci/layout.py \
    --layer "$work/layer.tar" --out "$out/oci" --arch "$arch" \
    --entrypoint "$entry_path" --env "PATH=/usr/bin:/$plugin_dir" \
    --version "$version" --revision "$revision" --created "$created" --source "$source_url"
  (cd "$out/oci" && find . -mindepth 1 | sort > "$work/oci.list" &&
    tar --create --file "$out/kcred-$version-$platform.oci.tar" --format=gnu \
      --no-recursion --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
      --mode='u+rwX,go+rX,go-w' --files-from "$work/oci.list")
fi

step "SHA256SUMS"
# Written outside $out first: a redirection into $out would race with find and could list
# SHA256SUMS itself.
(cd "$out" && find . -path ./oci -prune -o -type f -print | sed 's#^\./##' | sort |
  xargs sha256sum > "$work/SHA256SUMS")
mv "$work/SHA256SUMS" "$out/SHA256SUMS"

if [ -n "$sign_key" ]; then
  command -v minisign >/dev/null || die "minisign is required to sign (apt-get install minisign)"
  step "signing SHA256SUMS with $sign_key"
  # Trusted comment fixed, so the signature (Ed25519, deterministic) is reproducible too.
  printf '%s\n' "${KCRED_SIGN_PASSWORD:-}" |
    minisign -S -s "$sign_key" -m "$out/SHA256SUMS" -x "$out/SHA256SUMS.minisig" \
      -t "kcred $version $platform SHA256SUMS" -c "kcred $version" >/dev/null
  printf '%s\n' "${KCRED_SIGN_PASSWORD:-}" |
    minisign -R -s "$sign_key" -p "$out/minisign.pub" >/dev/null
else
  echo "dist.sh: no signing key (--sign-key or KCRED_SIGN_KEY): SHA256SUMS is NOT signed" >&2
fi

step "done: $out"
(cd "$out" && ls -l)
