"""A real Docker Registry v2 (Debian's docker-registry) on a free port, and pushing images
into it over its HTTP API: what localdcos resolves images from when given --registry."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, require_binary, wait_until

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def registry(tmp_path: Path):
    binary = require_binary("docker-registry", "/usr/bin/docker-registry")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'blobs'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = open(tmp_path / "registry.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{url}/v2/", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(up, timeout=15)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def push_blob(registry: str, name: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = requests.post(f"{registry}/v2/{name}/blobs/uploads/", timeout=10)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    location = location if location.startswith("http") else registry + location
    separator = "&" if "?" in location else "?"
    done = requests.put(
        f"{location}{separator}digest={digest}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert done.status_code == 201, done.text
    return digest


def push_image(registry: str, name: str, tag: str, config: dict) -> None:
    """An image whose one layer is empty and whose config names its command."""
    raw_tar = io.BytesIO()
    with tarfile.open(fileobj=raw_tar, mode="w"):
        pass
    layer = gzip.compress(raw_tar.getvalue())
    layer_digest = push_blob(registry, name, layer)
    image_config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": config,
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(raw_tar.getvalue()).hexdigest()],
            },
        }
    ).encode()
    config_digest = push_blob(registry, name, image_config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_V2,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(image_config),
            "digest": config_digest,
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": layer_digest,
            }
        ],
    }
    response = requests.put(
        f"{registry}/v2/{name}/manifests/{tag}",
        data=json.dumps(manifest),
        headers={"Content-Type": MANIFEST_V2},
        timeout=10,
    )
    assert response.status_code == 201, response.text
