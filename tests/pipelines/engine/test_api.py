"""The pipelines API on Gate's paths: save, list, run, read, control, judge, tasks."""

import pytest
from django.contrib.auth.models import User

from pipelines.models import Execution, Pipeline
from tests.pipelines.engine.conftest import member, stage
from tests.spinui.api_support import api_client, send_json

PIPELINE = {
    "application": "hello",
    "name": "Deploy",
    "parameterConfig": [{"name": "env", "required": True}],
    "stages": [
        stage("1", waitTime=0),
        stage(
            "2",
            "manualJudgment",
            after=["1"],
            name="Approve",
            judgmentInputs=[{"value": "ship"}],
            selectedStageRoles=["release-managers"],
        ),
    ],
}


@pytest.fixture
def writer(app):
    return api_client(member(app, "wendy", ["read", "write", "execute"], ("release-managers",)))


def saved(writer) -> dict:
    response = send_json(writer, "POST", "/api/v1/pipelines", PIPELINE)
    assert response.status_code == 200, response.json()
    return response.json()


def run(client, parameters=None):
    return send_json(
        client,
        "POST",
        "/api/v1/pipelines/hello/Deploy",
        {"parameters": parameters if parameters is not None else {"env": "prod"}},
    )


def test_a_saved_pipeline_is_listed_with_its_id(engine, writer):
    config = saved(writer)
    listed = writer.get("/api/v1/applications/hello/pipelineConfigs").json()
    assert [p["id"] for p in listed] == [config["id"]]
    assert listed[0]["stages"][1]["type"] == "manualJudgment"


def test_an_invalid_pipeline_gets_422_with_json_paths(engine, writer):
    bad = {**PIPELINE, "stages": [stage("1"), stage("1")]}
    response = send_json(writer, "POST", "/api/v1/pipelines", bad)
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"path": "/stages/1/refId", "errors": ["'1' is also stage 0's"]}
    ]
    assert not Pipeline.objects.exists()


def test_running_returns_a_ref_and_the_execution_reads_in_orcas_shape(engine, writer):
    saved(writer)
    response = run(writer)
    assert response.status_code == 202
    ref = response.json()["ref"]
    engine.run()
    execution = writer.get(f"/api/v1{ref}").json()
    assert execution["status"] == "RUNNING"
    assert execution["trigger"]["parameters"] == {"env": "prod"}
    assert execution["authentication"] == {"user": "wendy"}
    by_ref = {s["refId"]: s for s in execution["stages"]}
    assert by_ref["1"]["status"] == "SUCCEEDED"
    assert isinstance(by_ref["1"]["startTime"], int)
    assert by_ref["2"]["status"] == "RUNNING"


def test_a_missing_required_parameter_is_a_422_at_its_path(engine, writer):
    saved(writer)
    response = run(writer, parameters={})
    assert response.status_code == 422
    assert response.json()["details"] == [{"path": "/parameters/env", "errors": ["is required"]}]
    assert not Execution.objects.exists()


def test_judging_through_the_api_continues_the_pipeline(engine, writer):
    saved(writer)
    ref = run(writer).json()["ref"]
    engine.run()
    execution = writer.get(f"/api/v1{ref}").json()
    judgment = next(s for s in execution["stages"] if s["refId"] == "2")
    response = send_json(
        writer,
        "PATCH",
        f"/api/v1{ref}/stages/{judgment['id']}",
        {"judgmentStatus": "continue", "judgmentInput": "ship"},
    )
    assert response.status_code == 200
    engine.run()
    assert writer.get(f"/api/v1{ref}").json()["status"] == "SUCCEEDED"


def test_a_judge_outside_the_listed_roles_is_refused_with_why(engine, writer, app):
    saved(writer)
    ref = run(writer).json()["ref"]
    engine.run()
    outsider = api_client(member(app, "oscar", ["read", "execute"]))
    judgment = next(s for s in outsider.get(f"/api/v1{ref}").json()["stages"] if s["refId"] == "2")
    response = send_json(
        outsider, "PATCH", f"/api/v1{ref}/stages/{judgment['id']}", {"judgmentStatus": "continue"}
    )
    assert response.status_code == 403
    assert "Only members of release-managers may judge" in response.json()["message"]


def test_judging_a_stage_that_is_not_waiting_is_a_409(engine, writer):
    saved(writer)
    ref = run(writer).json()["ref"]
    engine.run()
    first = next(s for s in writer.get(f"/api/v1{ref}").json()["stages"] if s["refId"] == "1")
    response = send_json(
        writer, "PATCH", f"/api/v1{ref}/stages/{first['id']}", {"judgmentStatus": "continue"}
    )
    assert response.status_code == 409
    assert "SUCCEEDED" in response.json()["message"]


def test_cancel_pause_and_resume(engine, writer):
    saved(writer)
    ref = run(writer).json()["ref"]
    engine.run()
    assert writer.put(f"/api/v1{ref}/pause").json()["status"] == "PAUSED"
    assert writer.put(f"/api/v1{ref}/pause").status_code == 409
    assert writer.put(f"/api/v1{ref}/resume").json()["status"] == "RUNNING"
    writer.put(f"/api/v1{ref}/cancel?reason=not+today")
    engine.run()
    execution = writer.get(f"/api/v1{ref}").json()
    assert (execution["status"], execution["cancellationReason"]) == ("CANCELED", "not today")
    assert writer.put(f"/api/v1{ref}/cancel").status_code == 409


@pytest.mark.parametrize(
    "levels,read,run_status,save_status",
    [
        ([], 404, 404, 404),
        (["read"], 200, 403, 403),
        (["read", "execute"], 200, 202, 403),
        (["read", "write"], 200, 403, 200),
    ],
)
def test_each_level_allows_what_it_should(
    engine, writer, app, levels, read, run_status, save_status
):
    config = saved(writer)
    client = api_client(member(app, "pat", levels))
    assert client.get("/api/v1/applications/hello/pipelineConfigs").status_code == read
    assert run(client).status_code == run_status
    assert send_json(client, "POST", "/api/v1/pipelines", config).status_code == save_status


def test_an_execution_of_a_hidden_application_is_a_404(engine, writer, app):
    saved(writer)
    ref = run(writer).json()["ref"]
    stranger = api_client(User.objects.create_user("sam"))
    assert stranger.get(f"/api/v1{ref}").status_code == 404


def test_an_orchestration_runs_operations_with_the_same_engine(engine, writer):
    response = send_json(
        writer,
        "POST",
        "/api/v1/applications/hello/tasks",
        {
            "application": "hello",
            "description": "Pause a moment",
            "job": [{"type": "wait", "waitTime": 0}],
        },
    )
    assert response.status_code == 202
    engine.run()
    task = writer.get(f"/api/v1{response.json()['ref']}").json()
    assert (task["type"], task["name"], task["status"]) == (
        "ORCHESTRATION",
        "Pause a moment",
        "SUCCEEDED",
    )


def test_evaluate_expression_against_a_stored_execution(engine, writer):
    saved(writer)
    ref = run(writer).json()["ref"]
    engine.run()
    answer = writer.get(
        f"/api/v1{ref}/evaluateExpression",
        {"expression": "${trigger.parameters.env}-${#stage('stage 1')['status']}"},
    )
    assert answer.json()["result"] == "prod-SUCCEEDED"
    broken = writer.get(f"/api/v1{ref}/evaluateExpression", {"expression": "${trigger.}"})
    assert "column" in broken.json()["detail"]


def test_restart_of_a_running_stage_is_refused(engine, writer):
    saved(writer)
    ref = run(writer).json()["ref"]
    engine.run()
    judgment = next(s for s in writer.get(f"/api/v1{ref}").json()["stages"] if s["refId"] == "2")
    response = writer.put(f"/api/v1{ref}/stages/{judgment['id']}/restart")
    assert response.status_code == 409
    assert "only a finished stage can be restarted" in response.json()["message"]


def test_a_pipelines_history_lists_every_revision_newest_first(engine, writer):
    config = saved(writer)
    send_json(writer, "POST", "/api/v1/pipelines", {**config, "description": "second"})
    history = writer.get(f"/api/v1/pipelineConfigs/{config['id']}/history").json()
    assert [(h["revision"], h.get("description")) for h in history] == [(2, "second"), (1, None)]
    assert history[0]["lastModifiedBy"] == "wendy"
