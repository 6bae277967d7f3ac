"""Images from a real Docker Registry v2 (Debian's docker-registry), pushed over its HTTP API."""

from __future__ import annotations

import pytest
import requests

from tests.registry import push_image

from .conftest import LocalDcos, wait_until


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
