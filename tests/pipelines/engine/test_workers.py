"""The engine on real Celery worker processes: killed workers, duplicated and lost messages,
and a broker restart only delay an execution; every stage still runs once."""

import subprocess
import time

import pytest
from django.contrib.auth.models import User

from pipelines import services
from pipelines.engine import messages
from pipelines.models import Execution, ExecutionEvent
from spinui.models import Application
from tests.conftest import free_port, require_binary
from tests.pipelines.engine.conftest import stage
from tests.workers import Cluster

pytestmark = pytest.mark.slow


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
