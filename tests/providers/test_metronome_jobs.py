"""The Metronome client against a real localdcos: jobs, runs, their outcome, stopping."""

import pytest

from providers.dcos.metronome import FAILED, SUCCESS, MetronomeClient, job_definition
from providers.dcos.transport import Invalid
from tests.providers.conftest import wait_until


@pytest.fixture
def metronome(localdcos) -> MetronomeClient:
    return MetronomeClient(localdcos.config())


def spec(job_id: str = "hello.smoke", cmd: str = "true", **run) -> dict:
    return job_definition({"general": {"id": job_id, "cmd": cmd, "cpus": 0.01, "mem": 32}, **run})


def finished(metronome: MetronomeClient, job_id: str, run_id: str):
    return wait_until(lambda: (r := metronome.run(job_id, run_id)) and r.finished and r)


def test_it_creates_a_job_and_then_updates_it_in_place(metronome, localdcos):
    assert metronome.upsert_job(spec(cmd="echo one")) is True
    assert metronome.upsert_job(spec(cmd="echo two", labels={"team": "web"})) is False
    job = localdcos.get("/v1/jobs/hello.smoke").json()
    assert job["run"]["cmd"] == "echo two"
    assert job["labels"] == {"team": "web"}
    assert len(localdcos.get("/v1/jobs").json()) == 1


def test_a_job_metronome_rejects_raises_its_message(metronome):
    with pytest.raises(Invalid, match="/run/mem"):
        metronome.upsert_job({"id": "hello.smoke", "run": {"cmd": "true", "mem": 8}})


def test_an_unknown_job_is_none(metronome):
    assert metronome.job("no.such-job") is None
    assert metronome.run("no.such-job", "20260101000000abcde") is None


def test_a_run_that_exits_0_ends_in_success_with_its_task(metronome):
    metronome.upsert_job(spec(cmd="echo hi"))
    started = metronome.start_run("hello.smoke")
    assert not started.finished
    run = finished(metronome, "hello.smoke", started.id)
    assert run.status == SUCCESS
    assert len(run.task_ids) == 1
    assert run.task_ids[0].startswith(f"hello.smoke_{started.id}.")


def test_a_run_that_exits_1_ends_failed(metronome):
    metronome.upsert_job(spec(cmd="exit 1"))
    started = metronome.start_run("hello.smoke")
    assert finished(metronome, "hello.smoke", started.id).status == FAILED


def test_a_run_is_active_while_its_task_runs(metronome):
    metronome.upsert_job(spec(cmd="sleep 30"))
    started = metronome.start_run("hello.smoke")
    run = wait_until(lambda: (r := metronome.run("hello.smoke", started.id)) and r.task_ids and r)
    assert run.status in ("STARTING", "ACTIVE")
    assert not run.finished
    metronome.stop_run("hello.smoke", started.id)


def test_stopping_a_run_ends_it_failed_and_a_finished_run_cannot_be_stopped(metronome):
    metronome.upsert_job(spec(cmd="sleep 30"))
    started = metronome.start_run("hello.smoke")
    wait_until(lambda: metronome.run("hello.smoke", started.id).status == "ACTIVE")
    assert metronome.stop_run("hello.smoke", started.id) is True
    assert finished(metronome, "hello.smoke", started.id).status == FAILED
    assert metronome.stop_run("hello.smoke", started.id) is False
