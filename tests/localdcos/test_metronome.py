"""Metronome v1: jobs, runs, restart policy, history, and the shapes of its errors."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import wait_until

WRITES_OUTPUT = (
    'printf \'{"version": "1.2.3", "healthy": true}\' > out.json && '
    "printf 'version=1.2.3\\nowner=spinui\\n' > out.properties && echo done"
)


def create_job(localdcos, job_id: str, run: dict, prefix: str = "/v1") -> dict:
    response = localdcos.request("POST", f"{prefix}/jobs", json={"id": job_id, "run": run})
    assert response.status_code == 201, response.text
    return response.json()


def start_run(localdcos, job_id: str) -> dict:
    response = localdcos.request("POST", f"/v1/jobs/{job_id}/runs")
    assert response.status_code == 201, response.text
    return response.json()


def finished_history(localdcos, job_id: str, count: int = 1) -> dict:
    def finished():
        job = localdcos.get(f"/v1/jobs/{job_id}?embed=history&embed=activeRuns").json()
        history = job["history"]
        done = history["successCount"] + history["failureCount"]
        return job if done >= count and not job["activeRuns"] else None

    return wait_until(finished, timeout=20)


def read_sandbox_file(localdcos, job_id: str, task_id: str, name: str):
    """Reference §2's three steps, as Spinnaker's DcosJobProvider reads a job's output."""
    state = localdcos.get("/mesos/state.json").json()
    (framework,) = [f for f in state["frameworks"] if f["name"] == "metronome"]
    (task,) = [t for t in framework["completed_tasks"] if t["id"] == task_id]
    agent_id, framework_id = task["slave_id"], task["framework_id"]
    agent = localdcos.get(f"/agent/{agent_id}/slave(1)/state.json").json()
    executors = [
        e
        for f in agent["completed_frameworks"]
        for e in f["completed_executors"]
        if e["id"] == task_id
    ]
    (executor,) = executors
    path = (
        f"/var/lib/mesos/slave/slaves/{agent_id}/frameworks/{framework_id}"
        f"/executors/{task_id}/runs/{executor['container']}/{name}"
    )
    assert executor["directory"] + f"/{name}" == path
    return localdcos.get(f"/agent/{agent_id}/files/download", params={"path": path})


def test_a_jobs_output_files_are_read_back_through_mesos_state_and_the_agents_files(localdcos):
    create_job(localdcos, "smoke.tests", {"cmd": WRITES_OUTPUT, "cpus": 0.1, "mem": 32})
    run = start_run(localdcos, "smoke.tests")
    job = finished_history(localdcos, "smoke.tests")
    (finished,) = job["history"]["successfulFinishedRuns"]
    assert finished["id"] == run["id"]
    (task_id,) = finished["tasks"]
    output = read_sandbox_file(localdcos, "smoke.tests", task_id, "out.json")
    assert output.status_code == 200
    assert output.json() == {"version": "1.2.3", "healthy": True}
    properties = read_sandbox_file(localdcos, "smoke.tests", task_id, "out.properties")
    assert properties.text == "version=1.2.3\nowner=spinui\n"
    stdout = read_sandbox_file(localdcos, "smoke.tests", task_id, "stdout")
    assert stdout.text == "done\n"


def test_files_read_gives_the_size_at_offset_minus_one_and_honours_length(localdcos):
    create_job(localdcos, "sized", {"cmd": "printf 0123456789 > ten.txt"})
    start_run(localdcos, "sized")
    job = finished_history(localdcos, "sized")
    (task_id,) = job["history"]["successfulFinishedRuns"][0]["tasks"]
    agent = localdcos.get("/mesos/state.json").json()["slaves"][0]["id"]
    state = localdcos.get(f"/agent/{agent}/slave(1)/state.json").json()
    (executor,) = state["completed_frameworks"][0]["completed_executors"]
    path = executor["directory"] + "/ten.txt"
    read = f"/agent/{agent}/files/read"
    assert localdcos.get(read, params={"path": path, "offset": -1}).json() == {
        "data": "",
        "offset": 10,
    }
    assert localdcos.get(read, params={"path": path, "offset": 3, "length": 4}).json() == {
        "data": "3456",
        "offset": 3,
    }
    assert localdcos.get(read, params={"path": path, "offset": 0}).json()["data"] == "0123456789"
    assert localdcos.get(read, params={"path": path, "offset": "x"}).status_code == 400
    missing = localdcos.get(read, params={"path": executor["directory"] + "/nope", "offset": 0})
    assert missing.status_code == 404


def test_a_finished_run_leaves_runs_and_is_found_in_the_jobs_history(localdcos):
    create_job(localdcos, "quick", {"cmd": "sleep 0.5"})
    run = start_run(localdcos, "quick")
    assert run["status"] == "INITIAL" and run["jobId"] == "quick"
    assert re.fullmatch(r"\d{14}[A-Za-z0-9]{5}", run["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", run["createdAt"])
    active = wait_until(
        lambda: (
            (r := localdcos.get(f"/v1/jobs/quick/runs/{run['id']}").json())
            and r.get("status") == "ACTIVE"
            and r
        )
    )
    (task,) = active["tasks"]
    assert task["id"].startswith(f"quick_{run['id']}.")
    assert [r["id"] for r in localdcos.get("/v1/jobs/quick/runs").json()] == [run["id"]]
    job = finished_history(localdcos, "quick")
    assert localdcos.get("/v1/jobs/quick/runs").json() == []
    gone = localdcos.get(f"/v1/jobs/quick/runs/{run['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"jobSpec": "quick", "id": run["id"], "message": "Job Run not found"}
    history = job["history"]
    assert history["successCount"] == 1 and history["failureCount"] == 0
    assert history["successfulFinishedRuns"][0]["tasks"] == [task["id"]]
    summary = localdcos.get("/v1/jobs/quick?embed=historySummary").json()["historySummary"]
    assert summary["successCount"] == 1 and summary["lastSuccessAt"] == history["lastSuccessAt"]


def test_a_failing_job_with_on_failure_is_retried_until_its_deadline_then_fails(localdcos):
    # at --time-scale 0.05 a 30 s deadline is 1.5 s of real time
    create_job(
        localdcos,
        "flaky",
        {"cmd": "exit 3", "restart": {"policy": "ON_FAILURE", "activeDeadlineSeconds": 30}},
    )
    started = time.monotonic()
    start_run(localdcos, "flaky")
    job = finished_history(localdcos, "flaky")
    assert time.monotonic() - started >= 1.5
    (failed,) = job["history"]["failedFinishedRuns"]
    assert len(failed["tasks"]) >= 3, "each failure was followed by another attempt"
    assert job["history"]["successCount"] == 0
    metronome = [
        f
        for f in localdcos.get("/mesos/state.json").json()["frameworks"]
        if f["name"] == "metronome"
    ][0]
    states = {t["id"]: t["state"] for t in metronome["completed_tasks"]}
    assert all(states[task_id] == "TASK_FAILED" for task_id in failed["tasks"])


def test_a_failing_job_with_never_fails_after_one_attempt(localdcos):
    create_job(localdcos, "once", {"cmd": "exit 1"})
    start_run(localdcos, "once")
    job = finished_history(localdcos, "once")
    (failed,) = job["history"]["failedFinishedRuns"]
    assert len(failed["tasks"]) == 1


def test_a_run_stopped_midway_ends_failed_and_its_process_is_gone(localdcos):
    create_job(localdcos, "long", {"cmd": "echo started; sleep 600"})
    run = start_run(localdcos, "long")
    running = wait_until(
        lambda: (
            (r := localdcos.get(f"/v1/jobs/long/runs/{run['id']}").json()).get("tasks")
            and r["tasks"][0]["status"] == "TASK_RUNNING"
            and r
        )
    )
    stopped = localdcos.request("POST", f"/v1/jobs/long/runs/{run['id']}/actions/stop")
    assert stopped.status_code == 200 and stopped.json()["id"] == run["id"]
    job = finished_history(localdcos, "long")
    (failed,) = job["history"]["failedFinishedRuns"]
    assert failed["id"] == run["id"]
    task_id = running["tasks"][0]["id"]
    state = localdcos.get("/mesos/state.json").json()
    metronome = [f for f in state["frameworks"] if f["name"] == "metronome"][0]
    assert [t["state"] for t in metronome["completed_tasks"] if t["id"] == task_id] == [
        "TASK_KILLED"
    ]
    # the singular /action/stop of marathon-client's DCOS.java is not a route
    wrong = localdcos.request("POST", f"/v1/jobs/long/runs/{run['id']}/action/stop")
    assert wrong.status_code == 404 and wrong.json()["message"] == "Unknown route."


def test_job_crud_answers_with_metronomes_codes_and_shapes(localdcos):
    created = create_job(localdcos, "crud.job", {"cmd": "true"}, prefix="/service/metronome/v1")
    assert created["run"]["cpus"] == 1.0 and created["run"]["mem"] == 128.0
    assert created["run"]["restart"] == {"policy": "NEVER"}
    assert created["run"]["maxLaunchDelay"] == 3600
    again = localdcos.request("POST", "/v1/jobs", json={"id": "crud.job", "run": {"cmd": "x"}})
    assert again.status_code == 409
    assert again.json() == {"message": "Job with this id already exists"}
    updated = localdcos.request(
        "PUT", "/v1/jobs/crud.job", json={"id": "ignored", "run": {"cmd": "false", "mem": 64}}
    )
    assert updated.status_code == 200
    assert updated.json()["id"] == "crud.job" and updated.json()["run"]["mem"] == 64
    listed = localdcos.get("/v1/jobs?embed=activeRuns&embed=history").json()
    assert [j["id"] for j in listed] == ["crud.job"]
    assert listed[0]["activeRuns"] == [] and listed[0]["history"]["successCount"] == 0
    assert "activeRuns" not in localdcos.get("/v1/jobs/crud.job").json()
    deleted = localdcos.request("DELETE", "/v1/jobs/crud.job")
    assert deleted.status_code == 200 and deleted.json()["id"] == "crud.job"
    assert localdcos.get("/v1/jobs/crud.job").status_code == 404


def test_deleting_a_job_with_active_runs_needs_stop_current_job_runs(localdcos):
    create_job(localdcos, "busy", {"cmd": "sleep 600"})
    start_run(localdcos, "busy")
    refused = localdcos.request("DELETE", "/v1/jobs/busy")
    assert refused.status_code == 409
    assert refused.json() == {
        "message": "There are active job runs. Override with stopCurrentJobRuns=true"
    }
    assert localdcos.request("DELETE", "/v1/jobs/busy?stopCurrentJobRuns=true").status_code == 200
    wait_until(lambda: not any("busy_" in t["id"] for t in live_metronome_tasks(localdcos)))


def live_metronome_tasks(localdcos) -> list[dict]:
    state = localdcos.get("/mesos/state.json").json()
    return [t for f in state["frameworks"] if f["name"] == "metronome" for t in f["tasks"]]


def test_unknown_jobs_and_runs_are_404_with_metronomes_bodies(localdcos):
    assert localdcos.get("/v1/jobs/ghost").json() == {"id": "ghost", "message": "Job not found"}
    assert localdcos.get("/v1/jobs/ghost").status_code == 404
    for method, path in [
        ("POST", "/v1/jobs/ghost/runs"),
        ("GET", "/v1/jobs/ghost/runs"),
        ("PUT", "/v1/jobs/ghost"),
        ("DELETE", "/v1/jobs/ghost"),
        ("POST", "/v1/jobs/ghost/runs/20260101000000abcde/actions/stop"),
    ]:
        body = {"id": "ghost", "run": {"cmd": "true"}} if method == "PUT" else None
        response = localdcos.request(method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"id": "ghost", "message": "Job not found"}
    create_job(localdcos, "real", {"cmd": "true"})
    missing = localdcos.get("/v1/jobs/real/runs/nope")
    assert missing.status_code == 404
    assert missing.json() == {"jobSpec": "real", "id": "nope", "message": "Job Run not found"}
    stop = localdcos.request("POST", "/v1/jobs/real/runs/nope/actions/stop")
    assert stop.status_code == 404 and stop.json()["message"] == "Job Run not found"


@pytest.mark.parametrize(
    ("body", "path", "error"),
    [
        ({"run": {"cmd": "true"}}, "/id", "error.path.missing"),
        ({"id": "Bad_Id", "run": {"cmd": "true"}}, "/id", "must fully match"),
        ({"id": "a/b", "run": {"cmd": "true"}}, "/id", "must fully match"),
        ({"id": 7, "run": {"cmd": "true"}}, "/id", "error.expected.jsstring"),
        ({"id": "no-run"}, "/run", "error.path.missing"),
        ({"id": "no-cmd", "run": {"cpus": 0.5}}, "/run", "Either cmd, args, docker or ucr"),
        ({"id": "tiny", "run": {"cmd": "x", "mem": 8}}, "/run/mem", "expected 32.0 or more"),
        ({"id": "cpus", "run": {"cmd": "x", "cpus": "many"}}, "/run/cpus", "jsnumber"),
        (
            {"id": "policy", "run": {"cmd": "x", "restart": {"policy": "SOMETIMES"}}},
            "/run/restart/policy",
            "not a valid restart policy",
        ),
        (
            {"id": "env", "run": {"cmd": "x", "env": {"A": 1}}},
            "/run/env/A",
            "error.expected.jsstring",
        ),
        ([1, 2], "", "error.expected.jsobject"),
    ],
)
def test_malformed_job_specs_are_422_with_the_offending_path(localdcos, body, path, error):
    response = localdcos.request("POST", "/v1/jobs", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["message"] == "Object is not valid"
    assert any(d["path"] == path and error in " ".join(d["errors"]) for d in payload["details"])


def test_a_body_that_is_not_json_is_400_and_unknown_routes_are_404(localdcos):
    response = localdcos.request("POST", "/v1/jobs", data=b"{nope")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid Json")
    unknown = localdcos.get("/v1/nothing")
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "Unknown route.", "requestPath": "/v1/nothing"}


def test_a_job_task_gets_mesoss_environment_and_the_jobs_env(localdcos):
    command = 'echo "$GREETING|$MESOS_TASK_ID|$MESOS_SANDBOX|$PWD" > env.txt'
    create_job(localdcos, "env.check", {"cmd": command, "env": {"GREETING": "hi"}})
    start_run(localdcos, "env.check")
    job = finished_history(localdcos, "env.check")
    (task_id,) = job["history"]["successfulFinishedRuns"][0]["tasks"]
    greeting, task, sandbox, cwd = (
        read_sandbox_file(localdcos, "env.check", task_id, "env.txt").text.strip().split("|")
    )
    assert greeting == "hi" and task == task_id
    assert sandbox == cwd == str(localdcos.work_dir / "dev" / "sandboxes" / task_id)


def test_a_job_whose_image_does_not_exist_fails_its_run(localdcos):
    create_job(localdcos, "ghost.image", {"docker": {"image": "nobody/nothing:1"}})
    start_run(localdcos, "ghost.image")
    job = finished_history(localdcos, "ghost.image")
    assert job["history"]["failureCount"] == 1
    (task_id,) = job["history"]["failedFinishedRuns"][0]["tasks"]
    metronome = [
        f
        for f in localdcos.get("/mesos/state.json").json()["frameworks"]
        if f["name"] == "metronome"
    ][0]
    assert [t["state"] for t in metronome["completed_tasks"] if t["id"] == task_id] == [
        "TASK_FAILED"
    ]


def test_jobs_history_and_sandbox_files_survive_a_restart(localdcos):
    create_job(localdcos, "kept", {"cmd": "echo kept > out.json"})
    start_run(localdcos, "kept")
    job = finished_history(localdcos, "kept")
    (task_id,) = job["history"]["successfulFinishedRuns"][0]["tasks"]
    create_job(localdcos, "cut.short", {"cmd": "sleep 600"})
    start_run(localdcos, "cut.short")
    wait_until(lambda: localdcos.get("/v1/jobs/cut.short?embed=activeRuns").json()["activeRuns"])
    localdcos.stop()
    localdcos.start()
    again = localdcos.get("/v1/jobs/kept?embed=history").json()
    assert again["history"] == job["history"]
    assert read_sandbox_file(localdcos, "kept", task_id, "out.json").text == "kept\n"
    cut = localdcos.get("/v1/jobs/cut.short?embed=history&embed=activeRuns").json()
    assert cut["activeRuns"] == [] and cut["history"]["failureCount"] == 1


def test_files_read_past_the_end_answers_the_size(localdcos):
    create_job(localdcos, "short.file", {"cmd": "printf abc > three.txt"})
    start_run(localdcos, "short.file")
    job = finished_history(localdcos, "short.file")
    (task_id,) = job["history"]["successfulFinishedRuns"][0]["tasks"]
    agent = localdcos.get("/mesos/state.json").json()["slaves"][0]["id"]
    state = localdcos.get(f"/agent/{agent}/slave(1)/state.json").json()
    (executor,) = state["completed_frameworks"][0]["completed_executors"]
    path = executor["directory"] + "/three.txt"
    read = f"/agent/{agent}/files/read"
    assert localdcos.get(read, params={"path": path, "offset": 10}).json() == {
        "data": "",
        "offset": 3,
    }
    assert localdcos.get(read, params={"path": path}).json() == {"data": "", "offset": 3}
    assert localdcos.get(read, params={"path": executor["directory"]}).status_code == 400
    download = localdcos.get(f"/agent/{agent}/files/download", params={"path": path})
    assert download.headers["Content-Disposition"] == "attachment; filename=three.txt"
    assert download.headers["Content-Type"] == "text/plain"
