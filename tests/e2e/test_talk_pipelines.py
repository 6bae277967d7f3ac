"""The MesosCon talk's pipelines, exactly as examples/pipelines ships them, started through
the service and run by real Celery workers against a real localdcos: dev deploys, smoke-tests
and cleans up after a broken version; prod promotes dev's image without losing a request; a
tag the registry does not have fails by timeout while the previous version keeps serving."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User
from django.core.management import call_command

from pipelines import services
from pipelines.models import Execution, Pipeline, ReservedName
from pipelines.status import COMPLETE
from spinui.models import Region
from tests.conftest import wait_until
from tests.providers.conftest import LocalDcos
from tests.registry import push_image
from tests.workers import Cluster

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# spinui reads these from the environment; the workers run Marathon's pace, 20x faster.
WORKER_SETTINGS = {
    "SPINUI_OPERATION_POLL_SECONDS": "0.5",
    "SPINUI_DCOS_CONNECT_TIMEOUT": "1",
    "SPINUI_DCOS_READ_TIMEOUT": "5",
    "SPINUI_INFRASTRUCTURE_REFRESH_SECONDS": "0",
}
HOSTS = {"dev": "hello.dev.localhost", "prod": "hello.prod.localhost"}
# Long enough for a healthy version to come up, short enough for a broken one to fail fast.
SHORT_DEPLOY_TIMEOUT_MS = "5000"


class Talk:
    """The demo as `make run` seeds it, on this test's localdcos and workers."""

    def __init__(self, localdcos: LocalDcos, workers: Cluster, admin: User) -> None:
        self.localdcos = localdcos
        self.workers = workers
        self.admin = admin

    def router(self, cluster: str) -> str:
        return f"http://127.0.0.1:{self.localdcos.ports[cluster]['router']}"

    def run(self, pipeline: str, **parameters: str) -> Execution:
        """Start PIPELINE as a user would (router URLs pointed at this localdcos) and wait
        for its end."""
        if pipeline in HOSTS:  # dev and prod reach their cluster's router
            parameters.setdefault("routerUrl", self.router(pipeline))
        execution = services.execution_start(
            pipeline=Pipeline.objects.get(name=pipeline),
            trigger={"parameters": parameters},
            user=self.admin,
        )

        def ended() -> bool:
            execution.refresh_from_db()
            return execution.status in COMPLETE

        try:
            wait_until(ended, timeout=90, interval=0.2)
        except AssertionError:
            pytest.fail(f"{pipeline} never ended: {self.stages(execution)}\n{self.workers.logs()}")
        return execution

    @staticmethod
    def stages(execution: Execution) -> dict[str, tuple[str, str]]:
        return {s.name: (s.status, s.error) for s in execution.stages.filter(parent=None)}

    def answer(self, cluster: str) -> str:
        response = requests.get(
            self.router(cluster) + "/", headers={"Host": HOSTS[cluster]}, timeout=5
        )
        assert response.status_code == 200, response.text
        return response.text.strip()

    def answers(self, cluster: str, count: int = 10) -> set[str]:
        return {self.answer(cluster) for _ in range(count)}

    def load(self, cluster: str) -> Load:
        return Load(self.router(cluster) + "/", HOSTS[cluster])

    def apps(self, cluster: str) -> dict[str, dict]:
        found = self.localdcos.request("GET", "/v2/apps?embed=apps.tasks", cluster).json()["apps"]
        return {app["id"].rsplit("/", 1)[1]: app for app in found}

    def active_job_runs(self, cluster: str) -> list[str]:
        jobs = self.localdcos.request("GET", "/v1/jobs?embed=activeRuns", cluster).json()
        return [run["id"] for job in jobs for run in job.get("activeRuns") or []]

    def assert_nothing_left_behind(self, cluster: str, serving: str) -> None:
        """Only SERVING runs in CLUSTER, no job is running, no name is held for anything else."""
        assert set(self.apps(cluster)) == {serving}
        assert self.active_job_runs(cluster) == []
        held = set(ReservedName.objects.filter(region=cluster).values_list("name", flat=True))
        assert held <= {serving}


@pytest.fixture
def start_talk(transactional_db, cluster, tmp_path, monkeypatch, request):
    """start_talk(*localdcos_arguments): localdcos, the demo seeded as `make run` seeds it
    with its regions pointed there, and a worker and beat."""

    def start(*extra: str) -> Talk:
        localdcos = LocalDcos(tmp_path / "localdcos", list(extra)).start()
        request.addfinalizer(localdcos.stop)
        monkeypatch.setenv("SPINUI_ADMIN_PASSWORD", "talk-demo")
        call_command("seed_demo")
        call_command("seed_demo_pipelines")
        for region in Region.objects.all():
            region.url = localdcos.url(region.name)
            region.save()
        workers = cluster(env=WORKER_SETTINGS)
        workers.worker()
        workers.beat()
        return Talk(localdcos, workers, User.objects.get(username="admin"))

    return start


@pytest.fixture
def talk(start_talk) -> Talk:
    return start_talk()


def test_dev_replaces_good_versions_and_removes_a_broken_one_leaving_the_previous_serving(talk):
    first = talk.run("first version", tag="1.0", greeting="first")
    assert first.status == "SUCCEEDED", talk.stages(first)
    assert talk.answers("dev") == {"Hello first from spinui/hello:1.0"}

    for tag, greeting in (("1.1", "one"), ("1.2", "two")):
        run = talk.run("dev", tag=tag, greeting=greeting)
        assert run.status == "SUCCEEDED", talk.stages(run)
        assert talk.answers("dev") == {f"Hello {greeting} from spinui/hello:{tag}"}
        (serving,) = talk.apps("dev")
    assert serving == "hello-v002"  # v000 was the first version

    with talk.load("dev") as load:
        broken = talk.run(
            "dev",
            tag="1.3",
            greeting="broken",
            crashOnStart="1",
            deployTimeoutMs=SHORT_DEPLOY_TIMEOUT_MS,
        )
    assert broken.status == "TERMINAL"
    assert load.covered_the_run
    assert (load.failures, set(load.answers)) == ([], {"Hello two from spinui/hello:1.2"})
    stages = talk.stages(broken)
    deploy_status, deploy_error = stages["Deploy"]
    assert deploy_status == "FAILED_CONTINUE"
    assert "timed out after" in deploy_error
    assert "hello-v003: 0 of 1 tasks healthy" in deploy_error
    assert "(last task failure: Command exited with status 1)" in deploy_error
    assert stages["Remove the failed deploy"][0] == "SUCCEEDED"
    assert stages["Smoke test"][0] == "FAILED_CONTINUE"
    assert "the new version never answered" in stages["Smoke test"][1]
    assert stages["Destroy the previous version"][0] == "SKIPPED"
    assert stages["Smoke test passed"] == (
        "TERMINAL",
        "precondition 1 (stageStatus) failed: stage 'Smoke test' is FAILED_CONTINUE, not SUCCEEDED",
    )
    assert talk.answers("dev") == {"Hello two from spinui/hello:1.2"}
    talk.assert_nothing_left_behind("dev", serving="hello-v002")


class Load:
    """Requests through a router, one after another, for as long as the test says (bounded by
    a count and a time): what every one of them answered."""

    def __init__(self, url: str, host: str, limit: int = 5000, seconds: float = 120) -> None:
        self.url, self.host = url, host
        self.limit, self.seconds = limit, seconds
        self.answers: list[str] = []
        self.failures: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

        self.covered_the_run = False

    def __enter__(self) -> Load:
        self.thread.start()
        wait_until(lambda: self.answers or self.failures, timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        self.covered_the_run = self.thread.is_alive()  # not stopped early by its bounds
        self.done.set()
        self.thread.join(timeout=15)

    def _run(self) -> None:
        deadline = time.monotonic() + self.seconds
        with requests.Session() as session:
            while not self.done.is_set() and time.monotonic() < deadline:
                if len(self.answers) + len(self.failures) >= self.limit:
                    return
                try:
                    response = session.get(self.url, headers={"Host": self.host}, timeout=5)
                except requests.RequestException as error:
                    self.failures.append(repr(error))
                    continue
                if response.status_code == 200:
                    self.answers.append(response.text.strip())
                else:
                    self.failures.append(f"{response.status_code} {response.text.strip()}")
                time.sleep(0.01)


def test_prod_promotes_devs_image_behind_the_same_router_without_a_failed_request(talk):
    assert talk.run("first version", tag="1.0", greeting="first").status == "SUCCEEDED"
    assert talk.run("dev", tag="2.0", greeting="dev").status == "SUCCEEDED"
    old, new = "Hello first from spinui/hello:1.0", "Hello prod from spinui/hello:2.0"
    assert talk.answers("prod") == {old}

    with talk.load("prod") as load:
        promoted = talk.run("prod", greeting="prod")
    assert promoted.status == "SUCCEEDED", talk.stages(promoted)

    assert load.covered_the_run
    assert load.failures == []
    assert set(load.answers) == {old, new}
    assert old in load.answers[load.answers.index(new) :], "old and new served side by side"
    assert load.answers[-1] == new
    assert talk.answers("prod", count=20) == {new}
    (serving,) = talk.apps("prod").values()
    assert serving["instances"] == 5
    assert serving["container"]["docker"]["image"] == "spinui/hello:2.0"
    assert talk.active_job_runs("prod") == []


def test_a_tag_the_registry_does_not_have_fails_by_timeout_and_the_previous_version_serves(
    start_talk, registry
):
    talk = start_talk("--registry", registry)
    hello = {
        "Entrypoint": [sys.executable, "-I", str(REPO / "localdcos" / "hello.py")],
        "Env": ["GREETING=world", "IMAGE_TAG=1.0"],
    }
    push_image(registry, "spinui/hello", "1.0", hello)
    assert talk.run("first version", tag="1.0", greeting="first").status == "SUCCEEDED"

    with talk.load("dev") as load:
        missing = talk.run(
            "dev", tag="9.9", greeting="missing", deployTimeoutMs=SHORT_DEPLOY_TIMEOUT_MS
        )

    assert missing.status == "TERMINAL"
    assert load.covered_the_run
    assert (load.failures, set(load.answers)) == ([], {"Hello first from spinui/hello:1.0"})
    deploy_status, deploy_error = talk.stages(missing)["Deploy"]
    assert deploy_status == "FAILED_CONTINUE"
    assert "timed out after" in deploy_error
    assert "manifest for spinui/hello:9.9 not found: manifest unknown" in deploy_error
    assert talk.answers("dev") == {"Hello first from spinui/hello:1.0"}
    talk.assert_nothing_left_behind("dev", serving="hello-v000")
