#!/usr/bin/env bash
# Tests of the release artifacts built by scripts/dist.sh (docs/install.md):
# static binaries in an empty root, DNS from /etc/hosts there, tarball, SBOMs, checksums and
# minisign signature, .deb/.rpm install and removal in throwaway roots, and the OCI image
# through a real Debian docker-registry with skopeo.
#
# Usage: tests/dist/run.sh [--dist DIR --pubkey FILE]
#   Without --dist: makes a throwaway minisign key, runs scripts/dist.sh --out target/dist-test
#   with it (one release LTO build), then tests that directory.
# Needs root (chroot, dpkg --root, rpm --root). Prints one line per test and the summary
# line "N passed, N failed"; exits non-zero when any test failed.
set -uo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

dist="" pubkey=""
while [ $# -gt 0 ]; do
  case $1 in
    --dist) dist=$2; shift 2 ;;
    --pubkey) pubkey=$2; shift 2 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

tmp=$(mktemp -d)
pids=()
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

if [ -z "$dist" ]; then
  # A throwaway key: never a release key in tests.
  minisign -G -W -p "$tmp/test.pub" -s "$tmp/test.key" >/dev/null || exit 1
  pubkey=$tmp/test.pub
  dist=$root/target/dist-test
  bash scripts/dist.sh --out "$dist" --sign-key "$tmp/test.key" || exit 1
fi
[ -n "$pubkey" ] || { echo "run.sh: --dist needs --pubkey" >&2; exit 2; }
dist=$(cd "$dist" && pwd)

platform=linux-amd64
tarball=$(ls "$dist"/kcred-*-$platform.tar.gz)
version=${tarball##*/kcred-}
version=${version%-$platform.tar.gz}
mapfile -t binaries < <(cd "$dist" && ls -1 | sed -n "s/-$platform\$//p" | sort)

passed=0 failed=0
fail() { echo "    $*"; return 1; }
run_test() {
  local name=$1 log=$tmp/$1.log
  # Not in an `if`: bash ignores set -e inside a subshell that is an if's condition.
  # Servers a test starts are stopped when its subshell ends.
  ( set -e; trap 'for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done' EXIT
    "$name" ) >"$log" 2>&1
  if [ $? = 0 ]; then
    passed=$((passed + 1)); echo "test dist::$name ... ok"
  else
    failed=$((failed + 1)); echo "test dist::$name ... FAILED"; sed 's/^/    /' "$log"
  fi
}

# An empty root holding nothing but the binary (and what the test adds).
empty_root() { # empty_root DIR BINARY
  mkdir -p "$1/bin"
  cp "$dist/$2-$platform" "$1/bin/$2"
}

# --- static binaries ---------------------------------------------------------------------
test_binaries_are_all_there() {
  local want
  for want in kcred docker-credential-kcred ecr-credential-provider acr-credential-provider \
              auth-provider-gcp static-credential-provider docker-credential-provider; do
    [ -x "$dist/$want-$platform" ] || fail "missing $want-$platform"
  done
  [ ! -e "$dist/kcred-test-plugin-$platform" ] || fail "test plugin shipped"
}

test_no_binary_has_an_elf_interpreter() {
  local b f
  for b in "${binaries[@]}"; do
    f=$dist/$b-$platform
    # Whole outputs captured first: with pipefail, `readelf | grep -q` can fail on SIGPIPE.
    local phdrs dyn kind
    phdrs=$(readelf -lW "$f") dyn=$(readelf -dW "$f") kind=$(file -b "$f")
    grep -q 'Program Headers' <<<"$phdrs" || fail "$b: readelf printed no program headers"
    if grep -q 'INTERP' <<<"$phdrs"; then fail "$b has a PT_INTERP segment"; fi
    if grep -q '(NEEDED)' <<<"$dyn"; then fail "$b needs shared libraries"; fi
    grep -Eq 'static-pie linked|statically linked' <<<"$kind" || fail "$b: file(1) says: $kind"
    echo "$b: $(file -b "$f" | cut -d, -f1-6)"
  done
}

test_each_binary_answers_version_in_an_empty_root() {
  local b r out
  for b in "${binaries[@]}"; do
    r=$tmp/root-$b
    empty_root "$r" "$b"
    [ "$(find "$r" -type f | wc -l)" = 1 ] || fail "root holds more than the binary"
    if ! out=$(chroot "$r" "/bin/$b" --version 2>&1); then
      out=$(chroot "$r" "/bin/$b" --help 2>&1) || fail "$b: neither --version nor --help: $out"
    fi
    [ -n "$out" ] || fail "$b printed nothing"
    echo "$b: ${out%%$'\n'*}"
  done
}

# A GCE metadata stub on 127.0.0.1 reached under a name that only the chroot's /etc/hosts
# knows: the static auth-provider-gcp must resolve it with glibc's built-in files backend.
start_metadata_stub() { # sets stub_port; not in $(...): the server would hold the pipe open
  python3 - "$tmp/port" >"$tmp/stub.log" 2>&1 <<'PY' &
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        base = "/computeMetadata/v1/instance/service-accounts/default/"
        routes = {
            base + "token": json.dumps({"access_token": "ya29.dist-dns-test",
                                        "expires_in": 3600, "token_type": "Bearer"}),
            base + "email": "node-sa@project.iam.gserviceaccount.com",
        }
        ok = self.path in routes and self.headers.get("Metadata-Flavor") == "Google"
        body = routes[self.path].encode() if ok else b"not found"
        self.send_response(200 if ok else 404)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
PY
  pids+=($!)
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  stub_port=$(cat "$tmp/port")
}

test_dns_resolves_a_name_from_etc_hosts_in_an_empty_root() {
  local port r out request stub_port=""
  start_metadata_stub
  port=$stub_port
  [ -n "$port" ] || fail "metadata stub did not start: $(cat "$tmp/stub.log")"
  r=$tmp/root-dns
  empty_root "$r" auth-provider-gcp
  request='{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"us-docker.pkg.dev/proj/repo/app:v1"}'
  run_gcp() {
    echo "$request" | env -i KCRED_GCP_METADATA_URL="http://metadata.kcred-dist.test:$port/computeMetadata/v1/" \
      "$(command -v chroot)" "$r" /bin/auth-provider-gcp get-credentials 2>&1
  }
  # Control: without /etc/hosts the name does not resolve, so the plugin fails.
  if out=$(run_gcp); then fail "resolved without /etc/hosts: $out"; fi
  echo "without /etc/hosts: $(echo "$out" | tail -1)"
  mkdir -p "$r/etc"
  printf '127.0.0.1 metadata.kcred-dist.test\n' > "$r/etc/hosts"
  out=$(run_gcp) || fail "plugin failed with the /etc/hosts entry: $out"
  echo "$out" | python3 -c '
import json, sys
resp = json.loads(sys.stdin.read().strip().splitlines()[-1])
auth = resp["auth"]
entry = auth["*.pkg.dev"]
assert entry["username"] == "_token", entry
assert entry["password"] == "ya29.dist-dns-test", "token from the stub"
print("credentials for", sorted(auth))' || fail "unexpected response: $out"
}

# --- tarball, SBOM, checksums, signature --------------------------------------------------
test_tarball_holds_binaries_license_readme_docs_examples() {
  local tgz=$dist/kcred-$version-$platform.tar.gz top=kcred-$version-$platform b
  tar -tzf "$tgz" > "$tmp/list"
  for f in LICENSE README.md docs/install.md examples/node-credential-provider-config.yaml \
           sbom/kcred-$platform.cdx.json; do
    grep -qx "$top/$f" "$tmp/list" || fail "tarball lacks $f"
  done
  grep -q 'Apache License' <(tar -xzOf "$tgz" "$top/LICENSE") || fail "LICENSE is not Apache-2.0"
  mkdir -p "$tmp/untar" && tar -xzf "$tgz" -C "$tmp/untar"
  for b in "${binaries[@]}"; do
    cmp "$dist/$b-$platform" "$tmp/untar/$top/bin/$b" || fail "tarball's $b differs"
  done
  # Fixed owners and sorted entries (reproducibility).
  tar -tvzf "$tgz" | awk '$2 != "0/0" {bad=1; print "owner:", $0} END {exit bad}' ||
    fail "entries not owned by 0/0"
  # tar --sort=name sorts each directory's entries, children right after their directory:
  # compare with '/' as the lowest byte so that `node/…` comes before `node-…`.
  tr '/' '\001' < "$tmp/list" | sort -c || fail "entries not sorted"
}

test_sbom_lists_each_binarys_dependencies() {
  local b
  for b in "${binaries[@]}"; do
    python3 - "$dist/sbom/$b-$platform.cdx.json" "$dist/$b-$platform" "$b" <<'PY' || fail "$b SBOM"
import hashlib, json, sys
path, binary, name = sys.argv[1:]
doc = json.load(open(path))
assert doc["bomFormat"] == "CycloneDX", doc.get("bomFormat")
names = {c["name"] for c in doc.get("components", [])}
# Every kcred binary links serde_json; none links the test-only crates.
assert "serde_json" in names, sorted(names)
assert "proptest" not in names and "kcred-testutil" not in names, "dev-dependency in SBOM"
digest = hashlib.sha256(open(binary, "rb").read()).hexdigest()
assert doc["metadata"]["component"]["hashes"][0]["content"] == digest
print(name, len(names), "components")
PY
  done
  # Exactly what is in each binary: ECR's SBOM has the AWS SDK, the static provider's does not.
  grep -q '"aws-sdk-ecr"' "$dist/sbom/ecr-credential-provider-$platform.cdx.json" || fail "ECR SBOM lacks aws-sdk-ecr"
  ! grep -q '"aws-sdk-ecr"' "$dist/sbom/static-credential-provider-$platform.cdx.json" || fail "static SBOM lists aws-sdk-ecr"
}

test_checksums_and_signature_verify_and_tampering_fails() {
  (cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
  for f in "kcred-$version-$platform.tar.gz" "kcred-$platform"; do
    grep -q " $f\$" "$dist/SHA256SUMS" || fail "SHA256SUMS lacks $f"
  done
  minisign -Vq -p "$pubkey" -m "$dist/SHA256SUMS" -x "$dist/SHA256SUMS.minisig" ||
    fail "signature does not verify with the test key"
  # Tampered checksum file: signature fails.
  awk 'NR == 1 { c = substr($0, 1, 1); $0 = (c == "0" ? "1" : "0") substr($0, 2) } { print }' \
    "$dist/SHA256SUMS" > "$tmp/SHA256SUMS"
  ! cmp -s "$tmp/SHA256SUMS" "$dist/SHA256SUMS" || fail "tampering changed nothing"
  if minisign -Vq -p "$pubkey" -m "$tmp/SHA256SUMS" -x "$dist/SHA256SUMS.minisig" 2>/dev/null; then
    fail "tampered SHA256SUMS verified"
  fi
  # Tampered artifact: checksum fails.
  mkdir -p "$tmp/tamper" && cp "$dist/SHA256SUMS" "$dist/kcred-$platform" "$tmp/tamper/"
  printf 'x' >> "$tmp/tamper/kcred-$platform"
  if (cd "$tmp/tamper" && grep " kcred-$platform\$" SHA256SUMS | sha256sum --quiet -c 2>/dev/null); then
    fail "tampered binary passed sha256sum"
  fi
  # Another key does not verify.
  minisign -G -W -p "$tmp/other.pub" -s "$tmp/other.key" >/dev/null
  if minisign -Vq -p "$tmp/other.pub" -m "$dist/SHA256SUMS" -x "$dist/SHA256SUMS.minisig" 2>/dev/null; then
    fail "verified with a different key"
  fi
}

test_example_config_validates() {
  "$dist/kcred-$platform" validate examples/node-credential-provider-config.yaml
}

# --- packages -----------------------------------------------------------------------------
plugin_dir=usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec
check_installed_tree() { # check_installed_tree ROOT
  local r=$1 b
  for b in kcred docker-credential-kcred; do [ -x "$r/usr/bin/$b" ] || fail "no /usr/bin/$b"; done
  for b in ecr-credential-provider acr-credential-provider auth-provider-gcp \
           static-credential-provider docker-credential-provider; do
    [ -x "$r/$plugin_dir/$b" ] || fail "no /$plugin_dir/$b"
    cmp "$r/$plugin_dir/$b" "$dist/$b-$platform" || fail "$b differs from the release binary"
  done
  [ -f "$r/usr/share/doc/kcred/examples/node-credential-provider-config.yaml" ] || fail "no example config"
  chroot "$r" /usr/bin/kcred validate /usr/share/doc/kcred/examples/node-credential-provider-config.yaml ||
    fail "installed kcred cannot validate the installed example"
}

test_deb_installs_and_removes_in_a_throwaway_root() {
  local deb r=$tmp/debroot
  deb=$(ls "$dist"/kcred_*_amd64.deb)
  dpkg-deb -f "$deb" Package Version Architecture
  dpkg-deb -c "$deb" | awk '$2 != "root/root" {bad=1; print "owner:", $0} END {exit bad}' ||
    fail "package entries not owned by root"
  mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
  touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/available"
  dpkg --root="$r" --log=/dev/null --force-script-chrootless -i "$deb"
  grep -q '^Status: install ok installed' <<<"$(dpkg --root="$r" -s kcred)" || fail "not installed"
  check_installed_tree "$r"
  dpkg --root="$r" --log=/dev/null --force-script-chrootless --purge kcred
  [ ! -e "$r/usr/bin/kcred" ] || fail "kcred left after purge"
  [ -z "$(find "$r/usr" -type f 2>/dev/null)" ] || fail "files left: $(find "$r/usr" -type f)"
}

test_rpm_installs_and_removes_in_a_throwaway_root() {
  local rpmf r=$tmp/rpmroot
  rpmf=$(ls "$dist"/kcred-*.x86_64.rpm)
  rpm -qp --qf '%{NAME} %{VERSION} %{ARCH} %{LICENSE}\n' "$rpmf"
  mkdir -p "$r"
  rpm --root "$r" --initdb
  rpm --root "$r" -i --nodeps "$rpmf"
  rpm --root "$r" -q kcred
  rpm --root "$r" -V kcred || fail "rpm -V reports changes right after install"
  check_installed_tree "$r"
  rpm --root "$r" -e kcred
  if rpm --root "$r" -q kcred >/dev/null 2>&1; then fail "still installed"; fi
  [ -z "$(find "$r/usr" -type f 2>/dev/null)" ] || fail "files left: $(find "$r/usr" -type f)"
}

# --- OCI image ----------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

test_oci_image_round_trips_through_docker_registry() {
  local port data manifest_digest pushed_digest ref pulled
  port=$(free_port) data=$tmp/registry
  mkdir -p "$data"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$data" "$port" > "$tmp/registry.yml"
  docker-registry serve "$tmp/registry.yml" > "$tmp/registry.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  ref=127.0.0.1:$port/kcred
  manifest_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$dist/oci/index.json")
  skopeo copy --quiet --dest-tls-verify=false "oci:$dist/oci:$version" "docker://$ref:$version"
  pushed_digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$ref:$version")
  [ "$pushed_digest" = "$manifest_digest" ] ||
    fail "registry digest $pushed_digest != built manifest $manifest_digest"
  # The tarball form of the layout round-trips too.
  skopeo copy --quiet --dest-tls-verify=false "oci-archive:$dist/kcred-$version-$platform.oci.tar" \
    "docker://$ref:archive"
  # Pull back by digest (the reference docs/install.md pins).
  pulled=$tmp/pulled
  skopeo copy --quiet --src-tls-verify=false "docker://$ref@$manifest_digest" "oci:$pulled:pulled"
  python3 - "$pulled" "$version" <<'PY' > "$tmp/image.env"
import json, os, sys, tarfile
layout, version = sys.argv[1:]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))
index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
ann = manifest["annotations"]
assert ann["org.opencontainers.image.version"] == version, ann
assert len(ann["org.opencontainers.image.revision"]) == 40, ann
assert config["created"] == ann["org.opencontainers.image.created"]
assert config["os"] == "linux" and config["architecture"] == "amd64"
assert len(manifest["layers"]) == 1
print("ENTRYPOINT=" + config["config"]["Entrypoint"][0])
print("CREATED=" + ann["org.opencontainers.image.created"])
print("LAYER=" + blob(manifest["layers"][0]["digest"]))
PY
  cat "$tmp/image.env"
  # shellcheck disable=SC1090
  . "$tmp/image.env"
  # created is SOURCE_DATE_EPOCH: the mtime of every tarball entry.
  local sde
  sde=$(tar -tvzf "$tarball" --full-time --utc | awk 'NR == 1 {print $4 "T" $5 "Z"}')
  [ "$CREATED" = "$sde" ] || fail "created $CREATED != SOURCE_DATE_EPOCH $sde"
  mkdir -p "$tmp/imageroot"
  tar -xzf "$LAYER" -C "$tmp/imageroot"
  for b in "${binaries[@]}"; do
    local p=$tmp/imageroot/usr/bin/$b
    [ -f "$p" ] || p=$tmp/imageroot/$plugin_dir/$b
    cmp "$p" "$dist/$b-$platform" || fail "image's $b differs from the release binary"
  done
  [ "$(find "$tmp/imageroot" -type f -perm -u+x | wc -l)" = "${#binaries[@]}" ] ||
    fail "image holds other executables: $(find "$tmp/imageroot" -type f -perm -u+x)"
  # The scratch image's entrypoint runs with nothing else in the root.
  chroot "$tmp/imageroot" "$ENTRYPOINT" --version
}

tests=(
  test_binaries_are_all_there
  test_no_binary_has_an_elf_interpreter
  test_each_binary_answers_version_in_an_empty_root
  test_dns_resolves_a_name_from_etc_hosts_in_an_empty_root
  test_tarball_holds_binaries_license_readme_docs_examples
  test_sbom_lists_each_binarys_dependencies
  test_checksums_and_signature_verify_and_tampering_fails
  test_example_config_validates
  test_deb_installs_and_removes_in_a_throwaway_root
  test_rpm_installs_and_removes_in_a_throwaway_root
  test_oci_image_round_trips_through_docker_registry
)
for t in "${tests[@]}"; do run_test "$t"; done
echo
echo "dist: $passed passed, $failed failed"
[ "$failed" = 0 ]
