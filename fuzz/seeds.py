#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target from tests/conformance (docs/fuzzing.md).

Usage: fuzz/seeds.py [OUT_DIR]   (default fuzz/corpus; one sub-directory per target)

Every value of the conformance files is classified by what it looks like (a request, a
response, a config, a docker config, an image, a duration, ...) and written as a seed of
the targets that parse that kind of input. Secret values (tokens, passwords, `auth`
fields) are replaced by the marker the targets look for in error texts
(kcred_fuzz::SECRET_MARKER); the original bytes are kept as a seed too. Seeds are named by
their SHA-1, so reruns are idempotent.
"""

import base64
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFORMANCE = os.path.join(ROOT, "tests", "conformance")
MARKER = "kcredFuzzSecret7q"
AUTH_MARKER = base64.b64encode(("user:" + MARKER).encode()).decode()
MAX_SEED_BYTES = 16 * 1024
MAX_SEEDS_PER_TARGET = 600

SECRET_KEYS = {
    "serviceaccounttoken", "password", "secret", "token", "access_token", "accesstoken",
    "refresh_token", "refreshtoken", "identitytoken", "registrytoken", "id_token",
    "aadclientsecret", "client_secret", "subject_token",
}
AUTH_KEYS = {"auth", "authorizationtoken"}

seeds = {}  # target -> {name: bytes}


def add(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > MAX_SEED_BYTES:
        return
    bucket = seeds.setdefault(target, {})
    if len(bucket) >= MAX_SEEDS_PER_TARGET:
        return
    bucket[hashlib.sha1(data).hexdigest()] = data


def redact(value):
    """A copy of a JSON value with every secret replaced by the marker."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            lk = k.lower() if isinstance(k, str) else k
            if lk in SECRET_KEYS and isinstance(v, str) and v:
                out[k] = MARKER
            elif lk in AUTH_KEYS and isinstance(v, str) and v:
                out[k] = AUTH_MARKER
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


DURATION = re.compile(r"^[-+]?(?:[0-9.]+[a-zµμ]{1,2})+$|^[-+]?0$")
IMAGE_LIKE = re.compile(r"^[^\s]{1,300}$")


def kind_of(doc):
    if isinstance(doc, dict):
        kind = doc.get("kind")
        if isinstance(kind, str):
            return kind
        if "auths" in doc:
            return "dockerconfig"
    return None


def classify_document(doc, raw):
    """A parsed JSON object (and its text) → targets."""
    kind = kind_of(doc)
    texts = [raw] if raw is not None else []
    texts.append(json.dumps(redact(doc)))
    texts.append(json.dumps(doc))
    for text in texts:
        if kind == "CredentialProviderRequest":
            add("request", text)
        elif kind == "CredentialProviderResponse":
            version = str(doc.get("apiVersion", ""))
            pick = b"\x01" if version.endswith("v1beta1") else b"\x02" if version.endswith("v1alpha1") else b"\x00"
            add("response", pick + text.encode())
        elif kind == "CredentialProviderConfig":
            add("config", text)
        elif kind == "dockerconfig":
            add("docker_config", text)
        plugin_document(doc, text)


def plugin_document(doc, text):
    """Documents of the plugins' own inputs (filled in for the plugin targets)."""
    if not isinstance(doc, dict):
        return
    keys = {k.lower() for k in doc}
    if keys & {"tenantid", "aadclientid", "cloud", "useinstancemetadata", "usemanagedidentityextension"}:
        add("acr_azure_json", text)
    if "access_token" in keys or "expires_in" in keys:
        add("gcp_token_response", text)
        add("acr_token_response", text)
    if "authorizationdata" in keys:
        add("ecr_token_response", text)


def classify_string(s, key):
    lk = (key or "").lower()
    stripped = s.strip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            doc = json.loads(stripped)
        except ValueError:
            doc = None
        if doc is not None:
            classify_document(doc, s)
            if isinstance(doc, dict) and kind_of(doc) is None and lk in ("input", "content", "config", "stdin"):
                add("docker_config", s)
            return
    if "kind: CredentialProviderConfig" in s or "CredentialProviderConfig" in s and "\n" in s:
        add("config", s)
        return
    if "CredentialProviderRequest" in s:
        add("request", s)
    if "CredentialProviderResponse" in s:
        add("response", b"\x00" + s.encode("utf-8", "surrogateescape"))
    if DURATION.match(stripped) and len(stripped) < 40:
        add("duration", s)
    if lk.startswith("www-authenticate") or s.lower().startswith("bearer ") or 'realm="' in s:
        add("acr_challenge", b"\x01" + s.encode("utf-8", "surrogateescape"))
    if IMAGE_LIKE.match(s) and ("." in s or "/" in s or ":" in s or s == "localhost"):
        add("image_ref", s)
        add("url", s)
        add("docker_helper_server_url", s)
        add("match_image", s + "\0" + s)


def walk(value, key=None):
    if isinstance(value, dict):
        if kind_of(value) is not None:
            classify_document(value, None)
        else:
            plugin_document(value, json.dumps(value))
        for k, v in value.items():
            if k in ("docker_config",) and isinstance(v, dict):
                add("docker_config", json.dumps(redact(v)))
                add("docker_config", json.dumps({"auths": redact(v)}))
                add("docker_config", json.dumps(v))
            walk(v, k)
    elif isinstance(value, list):
        for v in value:
            walk(v, key)
    elif isinstance(value, str):
        classify_string(value, key)


def load(name):
    with open(os.path.join(CONFORMANCE, name), encoding="utf-8") as f:
        return json.load(f)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz", "corpus")

    durations = load("go_duration_cases.json")
    for row in durations["parse_ok"] + durations["parse_err"]:
        if "in_bytes_hex" in row:
            add("duration", bytes.fromhex(row["in_bytes_hex"]))
        elif "in" in row:
            add("duration", row["in"])
    for row in durations["format"]:
        add("duration", row["out"])

    for row in load("go_filepath_match_cases.json")["cases"]:
        add("filepath_match", row["pattern"] + "\0" + row["name"])

    for row in load("match_cases.json"):
        add("match_image", row["pattern"] + "\0" + row["target"])
        for s in (row["pattern"], row["target"]):
            add("url", s)
            add("image_ref", s)

    for row in load("keyring_cases.json"):
        cfg = row.get("docker_config")
        image = row.get("image")
        if isinstance(cfg, dict) and isinstance(image, str):
            add("docker_config", json.dumps({"auths": redact(cfg)}) + "\0" + image)
            add("docker_config", json.dumps(redact(cfg)) + "\0" + image)

    for name in sorted(os.listdir(CONFORMANCE)):
        if name.endswith(".json"):
            walk(load(name))

    # Requests in every version, with a token and annotations (the host's exact bytes).
    for version in ("v1", "v1beta1", "v1alpha1"):
        doc = {"kind": "CredentialProviderRequest",
               "apiVersion": "credentialprovider.kubelet.k8s.io/" + version,
               "image": "registry.example.com/team/app:v1"}
        add("request", json.dumps(doc, separators=(",", ":")) + "\n")
        doc["serviceAccountToken"] = MARKER
        doc["serviceAccountAnnotations"] = {"example.com/role": "puller"}
        add("request", json.dumps(doc, separators=(",", ":")) + "\n")
        add("request", "".join(f"{k}: {json.dumps(v)}\n" for k, v in doc.items()))

    # ACR: challenges (first byte: 401), auth-params, login servers with mirrors.
    for row in load("acr_cases.json"):
        kind = row.get("kind")
        if kind == "challenge":
            resp = (row.get("http") or {}).get("response") or {}
            headers = resp.get("www_authenticate") or []
            pick = b"\x01" if resp.get("status") == 401 else b"\x00"
            add("acr_challenge", pick + "\n".join(headers).encode())
        elif kind == "parse_auth_params" and isinstance(row.get("input"), str):
            add("acr_challenge", b"\x01Bearer " + row["input"].encode())
        elif kind == "parse_login_server" and isinstance(row.get("image"), str):
            add("acr_request", row["image"] + "\0" + (row.get("mirrors") or ""))
    for data in list(seeds.get("request", {}).values()):
        for t in ("acr_request", "gcp_request", "ecr"):
            add(t, data)
    for data in list(seeds.pop("gcp_token_response", {}).values()):
        add("gcp_request", data)
    for data in list(seeds.pop("ecr_token_response", {}).values()):
        add("ecr", data)
    seeds.pop("acr_token_response", None)
    for row in load("ecr_cases.json"):
        if isinstance(row.get("image"), str):
            add("ecr", row["image"])
    add("ecr", AUTH_MARKER)
    add("ecr", base64.b64encode(b"AWS:" + MARKER.encode()).decode())

    # Server URL spellings docker clients send (docs/docker-credential-kcred.md).
    for s in ["https://index.docker.io/v1/", "docker.io", "127.0.0.1:5000", "http://r.io:5000/",
              "https://r.io/v2/", "r.io/team/app", "[::1]:5000", "https://user@r.io", "r.io?x"]:
        add("docker_helper_server_url", s)

    # static-credential-provider reads the same docker config files (its own first pass).
    for data in list(seeds.get("docker_config", {}).values()):
        add("static_config", data.split(b"\0")[0] if isinstance(data, bytes) else data.split("\0")[0])
    # docker credential helpers' `get` answers (docker-credential-helpers' protocol).
    for s in ['{"ServerURL":"https://r.io","Username":"u","Secret":"%s"}' % MARKER,
              '{"username":"u","secret":"%s"}' % MARKER, '{"Username":"<token>","Secret":"%s"}' % MARKER,
              '{"Secret":1}', "credentials not found in native keychain", "[]", ""]:
        add("helper_protocol", s)

    # Workload identity (kcred-oidc): kube-apiserver's keys and documents (issue 15).
    oidc = load("oidc_discovery_cases.json")
    for pem in oidc["keys"].values():
        add("oidc_public_key_pem", pem)
    add("oidc_public_key_pem", oidc["keys"]["rsa"] + oidc["keys"]["ecdsa"])
    for case in oidc["cases"]:
        for k in ("want_keyset", "want_config"):
            if k in case:
                add("oidc_documents", case[k])
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU"}').rstrip(b"=")
    claims = base64.urlsafe_b64encode(b'{"aud":["api://AzureADTokenExchange"],"exp":1700003600,"iat":1700000000,"iss":"https://issuer.example.com","sub":"system:serviceaccount:team:puller"}').rstrip(b"=")
    add("oidc_jwt", header + b"." + claims + b"." + base64.urlsafe_b64encode(MARKER.encode()).rstrip(b"="))

    total = 0
    for target, bucket in sorted(seeds.items()):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in bucket.items():
            with open(os.path.join(d, "seed-" + name[:16]), "wb") as f:
                f.write(data)
        total += len(bucket)
        print(f"{target:28} {len(bucket):4} seeds")
    print(f"{'total':28} {total:4} seeds in {out}")


if __name__ == "__main__":
    main()
