#!/usr/bin/env python3
"""Writes a one-layer OCI image layout (image-spec v1.1) FROM scratch, without a daemon.

Used by scripts/dist.sh. Input: an uncompressed, already reproducible layer tar. Output: an
OCI image layout directory (oci-layout, index.json, blobs/sha256/...) that skopeo, crane and
containerd read (`skopeo copy oci:DIR:VERSION docker://...`).

Everything that goes into a digest is derived from the inputs: gzip without name or mtime,
JSON with sorted keys, the creation time given by the caller (SOURCE_DATE_EPOCH). The
annotations are the pre-defined keys of the OCI image spec (annotations.md).
"""

import argparse
import gzip
import hashlib
import json
import os
import sys

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def write_blob(out, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "wb") as f:
        f.write(data)
    return digest, len(data)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--layer", required=True, help="uncompressed layer tar")
    p.add_argument("--out", required=True, help="OCI layout directory to create")
    p.add_argument("--arch", required=True, help="GOARCH-style architecture (amd64, arm64)")
    p.add_argument("--entrypoint", required=True, help="absolute path of the entrypoint")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE for the config")
    p.add_argument("--version", required=True)
    p.add_argument("--revision", required=True)
    p.add_argument("--created", required=True, help="RFC 3339 UTC time (SOURCE_DATE_EPOCH)")
    p.add_argument("--source", default="")
    a = p.parse_args()

    if not a.entrypoint.startswith("/"):
        sys.exit(f"layout.py: --entrypoint '{a.entrypoint}' must be an absolute path")
    os.makedirs(os.path.join(a.out, "blobs", "sha256"), exist_ok=True)

    with open(a.layer, "rb") as f:
        layer_tar = f.read()
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    # mtime=0 and no file name in the gzip header: the same tar gives the same blob.
    layer_gz = gzip.compress(layer_tar, compresslevel=9, mtime=0)
    layer_digest, layer_size = write_blob(a.out, layer_gz)

    annotations = {
        "org.opencontainers.image.created": a.created,
        "org.opencontainers.image.version": a.version,
        "org.opencontainers.image.revision": a.revision,
        "org.opencontainers.image.title": "kcred",
        "org.opencontainers.image.description":
            "kcred and static kubelet image credential provider plugins",
        "org.opencontainers.image.licenses": "Apache-2.0",
    }
    if a.source:
        annotations["org.opencontainers.image.source"] = a.source

    config = {
        "created": a.created,
        "architecture": a.arch,
        "os": "linux",
        "config": {
            "Entrypoint": [a.entrypoint],
            "Env": a.env,
            "Labels": annotations,
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": a.created, "created_by": "scripts/dist.sh"}],
    }
    config_digest, config_size = write_blob(a.out, canonical(config))

    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": layer_size}],
        "annotations": annotations,
    }
    manifest_digest, manifest_size = write_blob(a.out, canonical(manifest))

    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": manifest_digest,
            "size": manifest_size,
            "platform": {"architecture": a.arch, "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": a.version},
        }],
    }
    with open(os.path.join(a.out, "index.json"), "wb") as f:
        f.write(canonical(index))
    with open(os.path.join(a.out, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    print(manifest_digest)


if __name__ == "__main__":
    main()
