"""The engine on real Celery worker processes: killed workers, duplicated and lost messages,
and a broker restart only delay an execution; every stage still runs once."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from pipelines import services
from pipelines.engine import messages
from pipelines.models import Execution, ExecutionEvent
from spinui.models import Application
from tests.conftest import require_binary
from tests.pipelines.engine.conftest import stage

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database this process uses, for the workers to share."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Cluster:
    """Worker and beat processes on a broker of their own, and a client that sends to it."""

    def __init__(self, tmp_path: Path, broker_url: str | None) -> None:
        self.tmp_path = tmp_path
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DATABASE_URL")
        }
        self.env |= {
            "DATABASE_URL": database_url(),
            "SPINUI_VAR_DIR": str(tmp_path),
            "SPINUI_ENCRYPTION_KEYS": ",".join(settings.SPINUI_ENCRYPTION_KEYS),
            "SPINUI_SWEEP_INTERVAL": "0.5",
            "SPINUI_ENGINE_LEASE_SECONDS": "3",
        }
        if broker_url:
            self.env["CELERY_BROKER_URL"] = broker_url
            self.client = Celery(broker=broker_url)
        else:
            folder = tmp_path / "broker"
            for sub in ("queue", "processed"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            self.client = Celery(broker="filesystem://")
            self.client.conf.broker_transport_options = {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "store_processed": False,
            }
        self.client.conf.task_serializer = "json"
        self.processes: list[subprocess.Popen] = []

    def send(self, name: str, args: tuple, delay: float) -> None:
        self.client.send_task(
            f"pipelines.tasks.{name}", args=list(args), countdown=delay if delay > 0 else None
        )

    def start(self, *command: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{command[0]}-{len(self.processes)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "spinui", *command, "--loglevel=INFO"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def worker(self) -> subprocess.Popen:
        return self.start("worker", "--pool=solo", "--without-mingle", "--without-gossip")

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "--schedule", str(self.tmp_path / "beat-schedule"))

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in self.tmp_path.glob("*.log"))


@pytest.fixture
def cluster(transactional_db, tmp_path, monkeypatch):
    # Celery lets CELERY_BROKER_URL override the broker an app is given: the client here must
    # talk to this test's own broker, never the one CI exports for the suite.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    made = []

    def make(broker_url: str | None = None) -> Cluster:
        cluster = Cluster(tmp_path, broker_url)
        monkeypatch.setattr(messages, "sender", cluster.send)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


@pytest.fixture
def pipeline(transactional_db):
    user = User.objects.create_user("carol")
    app = Application.objects.create(name="hello", email="t@example.com")
    stages = [
        stage("1", waitTime=1),
        stage("2", after=["1"], waitTime=2),
        stage("3", after=["1"], waitTime=2),
        stage("4", after=["2", "3"]),
    ]
    saved = services.pipeline_save(
        actor=user, application=app, config={"name": "durable", "stages": stages}
    )
    return saved, user


def wait_for(predicate, cluster: Cluster, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"not done within {seconds} s; worker logs:\n{cluster.logs()}")


def status_of(execution: Execution) -> str:
    return Execution.objects.get(id=execution.id).status


def assert_each_stage_ran_once(execution: Execution) -> None:
    transitions = list(
        ExecutionEvent.objects.filter(execution=execution, stage__isnull=False).values_list(
            "stage__ref_id", "status"
        )
    )
    for ref in ("1", "2", "3", "4"):
        assert transitions.count((ref, "RUNNING")) == 1, transitions
        assert transitions.count((ref, "SUCCEEDED")) == 1, transitions


def test_a_pipeline_runs_on_a_real_worker(cluster, pipeline):
    cluster = cluster()
    cluster.worker()
    saved, user = pipeline
    execution = services.execution_start(pipeline=saved, trigger=None, user=user)
    wait_for(lambda: status_of(execution) == "SUCCEEDED", cluster)
    assert_each_stage_ran_once(execution)


def test_a_worker_killed_mid_stage_only_delays_the_execution(cluster, pipeline):
    cluster = cluster()
    first = cluster.worker()
    cluster.beat()
    saved, user = pipeline
    execution = services.execution_start(pipeline=saved, trigger=None, user=user)
    wait_for(lambda: execution.stages.filter(ref_id="2", status="RUNNING").exists(), cluster)
    cluster.kill(first)  # its countdown for stage 2 dies with it
    cluster.worker()
    wait_for(lambda: status_of(execution) == "SUCCEEDED", cluster)
    assert_each_stage_ran_once(execution)


def test_every_message_delivered_twice_changes_nothing(cluster, pipeline, monkeypatch):
    cluster = cluster()
    cluster.worker()
    cluster.worker()

    def twice(name, args, delay):
        cluster.send(name, args, delay)
        cluster.send(name, args, delay)

    monkeypatch.setattr(messages, "sender", twice)
    saved, user = pipeline
    execution = services.execution_start(pipeline=saved, trigger=None, user=user)
    wait_for(lambda: status_of(execution) == "SUCCEEDED", cluster)
    assert_each_stage_ran_once(execution)
    assert ExecutionEvent.objects.filter(stage=None, status="SUCCEEDED").count() == 1


def test_a_message_deleted_from_the_broker_is_recovered_by_the_sweeper(cluster, pipeline):
    cluster = cluster()
    saved, user = pipeline
    execution = services.execution_start(pipeline=saved, trigger=None, user=user)
    queue = cluster.tmp_path / "broker" / "queue"
    wait_for(lambda: any(queue.iterdir()), cluster, seconds=10)
    for message in queue.iterdir():
        message.unlink()
    cluster.worker()
    cluster.beat()
    wait_for(lambda: status_of(execution) == "SUCCEEDED", cluster)
    assert_each_stage_ran_once(execution)


def test_a_broker_restart_mid_execution_only_delays_it(cluster, pipeline, tmp_path):
    redis = require_binary("redis-server")
    port = free_port()
    command = [
        redis,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.5)
        cluster = cluster(f"redis://127.0.0.1:{port}/0")
        cluster.worker()
        cluster.beat()
        saved, user = pipeline
        execution = services.execution_start(pipeline=saved, trigger=None, user=user)
        wait_for(lambda: execution.stages.filter(ref_id="2", status="RUNNING").exists(), cluster)
        server.kill()
        server.wait(timeout=10)
        time.sleep(1)
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: status_of(execution) == "SUCCEEDED", cluster, seconds=90)
        assert_each_stage_ran_once(execution)
    finally:
        server.kill()
        server.wait(timeout=10)
