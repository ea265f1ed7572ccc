#!/usr/bin/env bash
# Installs kcred's test dependencies on a fresh Debian machine (root) and runs every test:
# formatting, clippy with -D warnings, and the whole workspace's tests, including the
# end-to-end tests against a real docker-registry with skopeo.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pair in docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils \
            pass:pass gpg:gnupg docker-credential-pass:golang-docker-credential-helpers \
            openssl:openssl curl:curl minisign:minisign rpmbuild:rpm readelf:binutils \
            file:file dpkg-deb:dpkg; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing test dependencies: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (rustup toolchain)" >&2
  exit 1
fi
rustup component add clippy rustfmt >/dev/null 2>&1 || true

# moto server (PyPI) emulates AWS ECR and STS for the ECR plugin's tests.
venv=target/test-venv
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "== installing moto server into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'moto[server]==5.2.5'
fi
export KCRED_MOTO_SERVER="$PWD/$venv/bin/moto_server"
# kubernetes-validate (PyPI) checks the DaemonSet installer manifests against the
# Kubernetes OpenAPI schemas it ships (1.25 to 1.37), offline.
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  echo "== installing kubernetes-validate into $venv"
  "$venv/bin/pip" install -q 'kubernetes-validate==1.37.0'
fi
export KCRED_KUBERNETES_VALIDATE="$PWD/$venv/bin/kubernetes-validate"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo test"
cargo test --workspace

# Every fuzz target briefly (docs/fuzzing.md); installs cargo-fuzz if missing.
if [ "${KCRED_FUZZ_SMOKE:-1}" != 0 ]; then
  echo "== fuzz smoke (${KCRED_FUZZ_SMOKE_SECONDS:-3} s per target)"
  # A fixed libFuzzer seed: the smoke run is repeatable (a new crash is a real one to fix,
  # not a dice roll); scripts/fuzz.sh without KCRED_FUZZ_SEED explores with random seeds.
  KCRED_FUZZ_SEED="${KCRED_FUZZ_SEED:-1}" bash scripts/fuzz.sh "${KCRED_FUZZ_SMOKE_SECONDS:-3}"
fi

# Release artifacts (docs/install.md): one release (LTO) build with scripts/dist.sh and a
# throwaway signing key, then static-binary, DNS, tarball, SBOM, signature, .deb/.rpm and
# OCI image tests. Reproducibility (two builds) is scripts/repro.sh, outside this command.
echo "== release artifacts"
bash tests/dist/run.sh
