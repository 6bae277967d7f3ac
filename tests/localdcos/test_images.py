"""Images from a real Docker Registry v2 (Debian's docker-registry), pushed over its HTTP API."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests

from tests.conftest import require_binary

from .conftest import LocalDcos, wait_until

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@pytest.fixture
def localdcos_with_registry(tmp_path, registry):
    server = LocalDcos(tmp_path / "localdcos", ["--registry", registry]).start()
    yield server
    server.stop()


IMAGE_CONFIG = {
    "Entrypoint": ["/bin/sh", "-c"],
    "Cmd": ['echo "$GREETING from $(pwd) as $TEAM"; exec sleep 3600'],
    "Env": ["GREETING=hello-from-image", "TEAM=image-team", "PATH=/usr/bin:/bin"],
    "WorkingDir": "/srv/app",
}


def docker_app(app_id: str, image: str, **fields) -> dict:
    return {
        "id": app_id,
        "container": {"type": "DOCKER", "docker": {"image": image}},
        "cpus": 0.1,
        **fields,
    }


def stdout_of(server: LocalDcos, app_id: str) -> str:
    (task,) = server.app(app_id)["tasks"]
    path = server.work_dir / "dev" / "sandboxes" / task["id"] / "stdout"
    return wait_until(lambda: path.exists() and path.read_text())


def test_an_image_runs_its_entrypoint_and_cmd_with_its_env_under_the_apps(
    registry, localdcos_with_registry
):
    push_image(registry, "team/worker", "1.0", IMAGE_CONFIG)
    server = localdcos_with_registry
    server.create(
        docker_app("worker", f"{registry.split('//')[1]}/team/worker:1.0", env={"TEAM": "app-team"})
    )
    server.deployed("/worker")
    line = stdout_of(server, "/worker")
    assert line.startswith("hello-from-image from ")
    assert line.rstrip().endswith("/srv/app as app-team"), line


def test_the_apps_args_replace_the_images_cmd(registry, localdcos_with_registry):
    push_image(registry, "team/worker", "1.0", IMAGE_CONFIG)
    server = localdcos_with_registry
    server.create(docker_app("argued", "team/worker:1.0", args=["echo args-win; exec sleep 3600"]))
    server.deployed("/argued")
    assert stdout_of(server, "/argued") == "args-win\n"


def test_a_tag_that_was_never_pushed_fails_with_manifest_unknown_again_and_again(
    registry, localdcos_with_registry
):
    push_image(registry, "team/worker", "1.0", IMAGE_CONFIG)
    server = localdcos_with_registry
    server.create(docker_app("typo", "team/worker:9.9", backoffSeconds=1, backoffFactor=1))
    seen = set()

    def failed_twice():
        failure = server.app("/typo").get("lastTaskFailure")
        if failure:
            seen.add(failure["taskId"])
            assert "manifest unknown" in failure["message"]
            assert failure["state"] == "TASK_FAILED"
        return len(seen) >= 2

    wait_until(failed_twice)
    assert server.app("/typo")["deployments"], "the deployment waits for a task that never runs"


def test_without_a_registry_the_catalogue_serves_spinui_hello_with_its_tag(localdcos):
    localdcos.create(docker_app("hello", "spinui/hello:2.3", env={"GREETING": "spinui"}))
    app = localdcos.deployed("/hello")
    port = app["tasks"][0]["ports"][0]
    text = requests.get(f"http://127.0.0.1:{port}/", timeout=5).text
    assert text == "Hello spinui from spinui/hello:2.3\n"
    assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    assert requests.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200


def test_spinui_hello_drains_and_exits_cleanly_on_sigterm(localdcos):
    localdcos.create(docker_app("hello", "spinui/hello:1", taskKillGracePeriodSeconds=100))
    (task,) = localdcos.deployed("/hello")["tasks"]
    localdcos.request("DELETE", f"/v2/apps/hello/tasks/{task['id']}")
    wait_until(lambda: task["id"] not in {t["id"] for t in localdcos.app("/hello")["tasks"]})
    stdout = localdcos.work_dir / "dev" / "sandboxes" / task["id"] / "stdout"
    assert stdout.read_text().rstrip().endswith("drained, exiting")
