"""Run Job on Metronome: the engine (fake clock) drives a real localdcos whose job tasks are
local `sh` processes."""

import time

import pytest
from django.contrib.auth.models import User
from guardian.shortcuts import assign_perm

from pipelines import services
from pipelines.config import InvalidConfig
from pipelines.models import Stage
from pipelines.status import Status
from providers.dcos.transport import TimedOut, Transport
from tests.conftest import wait_until
from tests.pipelines.operations.conftest import only_stage, orchestrate, settle

WRITE_JSON = """printf '{"greeting": "hi"}' > "$MESOS_SANDBOX/out.json"; echo written"""


def run_job(cmd: str, job_id: str = "hello.smoke", **fields) -> dict:
    return {
        "type": "runJob",
        "name": "Smoke test",
        "cloudProvider": "dcos",
        "account": "dev",
        "region": "dev",
        "general": {"id": job_id, "cmd": cmd, "cpus": 0.01, "mem": 32},
        **fields,
    }


def history(localdcos, job_id: str = "hello.smoke") -> dict:
    return localdcos.get(f"/v1/jobs/{job_id}?embed=history").json()["history"]


def mesos_task(localdcos, task_id: str) -> dict:
    state = localdcos.get("/mesos/state.json").json()
    metronome = next(f for f in state["frameworks"] if f["name"] == "metronome")
    return next(t for t in metronome["tasks"] + metronome["completed_tasks"] if t["id"] == task_id)


def until_running(engine, execution, timeout: float = 30.0) -> Stage:
    """Drive the engine until the job's task has a sandbox (it was launched)."""
    deadline = time.monotonic() + timeout
    while True:
        engine.run(until=engine.time)
        stage = only_stage(execution)
        if stage.context.get("sandbox"):
            return stage
        assert time.monotonic() < deadline, f"no task launched: {stage.context}"
        time.sleep(0.1)
        engine.advance(1)


def test_a_job_writing_json_succeeds_with_its_keys_as_outputs(engine, app, deployer, localdcos):
    execution = orchestrate(
        engine,
        app,
        deployer,
        run_job(WRITE_JSON, propertyFile="out.json"),
        {
            "type": "evaluateVariables",
            "variables": [
                {"key": "said", "value": "${#stage('Smoke test')['context']['greeting']}"}
            ],
        },
    )
    stage = only_stage(execution)
    assert execution.status == Status.SUCCEEDED, stage.error
    assert stage.outputs["greeting"] == "hi"
    assert stage.outputs["propertyFileContents"] == {"greeting": "hi"}
    assert stage.outputs["jobStatus"] == "SUCCESS"
    assert stage.context["greeting"] == "hi"
    assert execution.stages.get(ref_id="1").outputs["said"] == "hi"
    # Metronome has the job, created from the stage, and the one run the stage started.
    job = localdcos.get("/v1/jobs/hello.smoke").json()
    assert job["run"]["cmd"] == WRITE_JSON
    assert [r["id"] for r in history(localdcos)["successfulFinishedRuns"]] == [
        stage.context["runId"]
    ]
    assert stage.context["jobCreated"] is True


def test_a_java_properties_file_becomes_outputs_too(engine, app, deployer, localdcos):
    write = (
        r"""printf '# from the job\nresult=ok\nversion: 2\n' > "$MESOS_SANDBOX/job.properties" """
    )
    execution = orchestrate(engine, app, deployer, run_job(write, propertyFile="job.properties"))
    stage = only_stage(execution)
    assert execution.status == Status.SUCCEEDED, stage.error
    assert stage.outputs["propertyFileContents"] == {"result": "ok", "version": "2"}
    assert stage.outputs["result"] == "ok"


def test_a_job_that_exits_1_fails_the_stage_with_its_run_and_stderr(
    engine, app, deployer, localdcos
):
    execution = orchestrate(engine, app, deployer, run_job("echo 'cannot reach hello' >&2; exit 1"))
    stage = only_stage(execution)
    assert execution.status == Status.TERMINAL
    run_id = stage.context["runId"]
    assert stage.error == (
        f"job hello.smoke run {run_id}: FAILED (TASK_FAILED); stderr ends: cannot reach hello"
    )
    assert stage.outputs["jobStatus"] == "FAILED"
    assert [r["id"] for r in history(localdcos)["failedFinishedRuns"]] == [run_id]


def test_a_property_file_that_is_missing_or_broken_fails_the_stage_with_the_reason(
    engine, app, deployer, localdcos
):
    missing = orchestrate(engine, app, deployer, run_job("true", propertyFile="out.json"))
    stage = only_stage(missing)
    assert missing.status == Status.TERMINAL
    assert stage.error.startswith("property file out.json of job hello.smoke run ")
    assert "no such file in the sandbox of hello.smoke_" in stage.error
    broken = orchestrate(
        engine,
        app,
        deployer,
        run_job("""echo '{"a":' > "$MESOS_SANDBOX/out.json" """, propertyFile="out.json"),
    )
    assert broken.status == Status.TERMINAL
    assert "out.json is not valid JSON" in only_stage(broken).error


def test_an_existing_job_is_updated_and_run_again(engine, app, deployer, localdcos):
    first = orchestrate(engine, app, deployer, run_job("echo one"))
    second = orchestrate(engine, app, deployer, run_job("echo two", labels={"team": "web"}))
    assert second.status == Status.SUCCEEDED, only_stage(second).error
    assert only_stage(second).context["jobCreated"] is False
    job = localdcos.get("/v1/jobs/hello.smoke").json()
    assert job["run"]["cmd"] == "echo two"
    assert job["labels"] == {"team": "web"}
    runs = [r["id"] for r in history(localdcos)["successfulFinishedRuns"]]
    assert runs == [only_stage(second).context["runId"], only_stage(first).context["runId"]]


def test_a_start_whose_answer_was_lost_adopts_its_run_instead_of_starting_another(
    engine, app, deployer, localdcos, monkeypatch
):
    lost = []
    send = Transport.request

    def answer_lost_once(self, method, path, **kwargs):
        response = send(self, method, path, **kwargs)
        if method == "POST" and path.endswith("/runs") and not lost:
            lost.append(response.json()["id"])
            raise TimedOut("Timed out waiting for 127.0.0.1 to answer")
        return response

    monkeypatch.setattr(Transport, "request", answer_lost_once)
    execution = orchestrate(engine, app, deployer, run_job("echo once"))
    stage = only_stage(execution)
    assert execution.status == Status.SUCCEEDED, stage.error
    assert stage.context["runId"] == lost[0]
    assert stage.context["foundExisting"] is True
    assert history(localdcos)["successCount"] == 1


def test_cancelling_the_execution_stops_the_run(engine, app, deployer, localdcos):
    execution = orchestrate(engine, app, deployer, run_job("sleep 60"), wait=False)
    stage = until_running(engine, execution)
    services.execution_cancel(execution=execution, user=deployer, reason="enough")
    execution = settle(engine, execution)
    stage = only_stage(execution)
    assert execution.status == Status.CANCELED
    assert stage.context["runStopped"] is True
    run_id = stage.context["runId"]
    wait_until(lambda: run_id in [r["id"] for r in history(localdcos)["failedFinishedRuns"]])
    assert mesos_task(localdcos, stage.context["sandbox"]["taskId"])["state"] == "TASK_KILLED"


def test_a_timeout_stops_the_run(engine, app, deployer, localdcos):
    job = run_job("sleep 60", overrideTimeout=True, stageTimeoutMs=30_000)
    execution = orchestrate(engine, app, deployer, job, wait=False)
    until_running(engine, execution)
    engine.advance(31)
    execution = settle(engine, execution)
    stage = only_stage(execution)
    assert execution.status == Status.TERMINAL
    assert stage.error.startswith("timed out after ")
    assert stage.context["runStopped"] is True
    run_id = stage.context["runId"]
    wait_until(lambda: run_id in [r["id"] for r in history(localdcos)["failedFinishedRuns"]])
    assert mesos_task(localdcos, stage.context["sandbox"]["taskId"])["state"] == "TASK_KILLED"


def test_a_job_id_metronome_would_reject_is_refused_when_the_pipeline_is_saved(
    engine, app, deployer, run_pipeline
):
    with pytest.raises(InvalidConfig) as refused:
        run_pipeline.save([{"refId": "1", **run_job("true", job_id="Hello_Smoke")}])
    errors = {error.path: error.message for error in refused.value.errors}
    assert "is not a Metronome job id" in errors["/stages/0/general/id"]


def test_a_config_is_refused_with_the_path_of_each_problem(engine, app, deployer, run_pipeline):
    bad = run_job("", account="nowhere", region="moon", runId="20260101000000abcde")
    with pytest.raises(InvalidConfig) as refused:
        run_pipeline.save([{"refId": "1", **bad, "restartPolicy": {"policy": "ALWAYS"}}])
    assert {error.path for error in refused.value.errors} == {
        "/stages/0/account",
        "/stages/0/general/cmd",
        "/stages/0/restartPolicy/policy",
        "/stages/0/runId",
    }


def test_a_job_id_from_an_expression_is_checked_when_the_stage_starts(
    engine, app, deployer, localdcos
):
    stage = run_job("true", job_id="${'Hello_' + 'Smoke'}")
    execution = orchestrate(engine, app, deployer, stage)
    assert execution.status == Status.TERMINAL
    assert "/general/id: 'Hello_Smoke' is not a Metronome job id" in only_stage(execution).error
    assert localdcos.get("/v1/jobs").json() == []


def test_an_identity_without_write_is_refused_at_start_and_nothing_is_created(
    engine, app, alice, dev, localdcos
):
    assign_perm("write_application", alice, app)  # the application, not the account
    execution = orchestrate(engine, app, alice, run_job("true"))
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == "alice may not deploy into account dev (WRITE needed)"
    assert localdcos.get("/v1/jobs").json() == []


def test_the_stage_page_shows_the_tasks_stdout_and_stderr(client, engine, app, deployer, localdcos):
    execution = orchestrate(
        engine, app, deployer, run_job("echo 'hello from the job'; echo 'a warning' >&2")
    )
    stage = only_stage(execution)
    client.force_login(deployer)
    page = client.get(f"/executions/{execution.id}/?stage={stage.id}")
    output_url = f"/executions/{execution.id}/stages/{stage.id}/output/"
    assert output_url in page.content.decode()
    output = client.get(output_url)
    assert output.status_code == 200
    text = output.content.decode()
    assert '<pre class="code" aria-label="stdout">hello from the job\n</pre>' in text
    assert '<pre class="code" aria-label="stderr">a warning\n</pre>' in text


def test_the_output_is_hidden_from_someone_who_cannot_read_the_application(
    client, engine, app, deployer, localdcos
):
    execution = orchestrate(engine, app, deployer, run_job("echo secret-ish"))
    stage = only_stage(execution)
    client.force_login(User.objects.create_user("mallory"))
    assert client.get(f"/executions/{execution.id}/stages/{stage.id}/output/").status_code == 404


def test_with_on_failure_the_property_file_comes_from_the_runs_last_task(
    engine, app, deployer, localdcos, tmp_path
):
    marker = tmp_path / "failed-once"
    cmd = (
        f"test -f {marker} || {{ touch {marker}; exit 1; }}; "
        """printf '{"attempt": 2}' > "$MESOS_SANDBOX/out.json" """
    )
    job = run_job(
        cmd,
        propertyFile="out.json",
        restartPolicy={"policy": "ON_FAILURE", "activeDeadlineSeconds": 600},
    )
    execution = orchestrate(engine, app, deployer, job)
    stage = only_stage(execution)
    assert execution.status == Status.SUCCEEDED, stage.error
    assert len(stage.context["taskIds"]) == 2
    assert stage.context["sandbox"]["taskId"] == stage.context["taskIds"][-1]
    assert stage.outputs["attempt"] == 2


def test_restarting_a_failed_stage_starts_a_new_run(engine, app, deployer, localdcos, tmp_path):
    marker = tmp_path / "fixed"
    execution = orchestrate(engine, app, deployer, run_job(f"test -f {marker}"))
    failed_run = only_stage(execution).context["runId"]
    assert execution.status == Status.TERMINAL
    marker.touch()
    services.stage_restart(stage=only_stage(execution), user=deployer)
    execution = settle(engine, execution)
    stage = only_stage(execution)
    assert execution.status == Status.SUCCEEDED, stage.error
    assert stage.context["runId"] != failed_run
    assert [r["id"] for r in history(localdcos)["successfulFinishedRuns"]] == [
        stage.context["runId"]
    ]


def test_the_output_page_shows_a_running_tasks_output_and_stops_polling_at_the_end(
    client, engine, app, deployer, localdcos
):
    execution = orchestrate(engine, app, deployer, run_job("echo started; sleep 60"), wait=False)
    stage = until_running(engine, execution)
    client.force_login(deployer)
    url = f"/executions/{execution.id}/stages/{stage.id}/output/"

    def shows_started():
        answer = client.get(url, HTTP_HX_REQUEST="true")
        return answer.status_code == 200 and "started\n</pre>" in answer.content.decode()

    wait_until(shows_started)
    services.execution_cancel(execution=execution, user=deployer)
    settle(engine, execution)
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 286


def test_a_missing_account_and_region_are_refused_at_their_paths(
    engine, app, deployer, run_pipeline
):
    with pytest.raises(InvalidConfig) as refused:
        run_pipeline.save([{"refId": "1", **run_job("true", account="", region="")}])
    assert {error.path for error in refused.value.errors} == {
        "/stages/0/account",
        "/stages/0/region",
    }
