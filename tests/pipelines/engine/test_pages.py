"""The pipelines pages: list with recent executions, run form, JSON editor, execution page,
actions and the expression playground."""

import pytest
from django.urls import reverse

from pipelines.models import Execution, Pipeline
from tests.pipelines.engine.conftest import member, stage

CONFIG = {
    "name": "Release",
    "parameterConfig": [
        {
            "name": "env",
            "required": True,
            "hasOptions": True,
            "options": [{"value": "dev"}, {"value": "prod"}],
        },
    ],
    "stages": [
        stage("1", waitTime=0),
        stage(
            "2",
            "manualJudgment",
            after=["1"],
            name="Approve",
            instructions="Ship ${parameters.env}?",
            judgmentInputs=[{"value": "ship"}],
            selectedStageRoles=["release-managers"],
        ),
    ],
}


@pytest.fixture
def releaser(client, app, run_pipeline):
    run_pipeline.save(CONFIG["stages"], name="Release", parameterConfig=CONFIG["parameterConfig"])
    user = member(app, "rita", ["read", "write", "execute"], ("release-managers",))
    client.force_login(user)
    return user


def start(client, engine, env="prod") -> Execution:
    response = client.post(reverse("pipeline_run", args=["hello", "Release"]), {"env": env})
    assert response.status_code == 302
    engine.run()
    return Execution.objects.order_by("-build_time").first()


def test_the_run_form_asks_for_required_parameters_with_their_options(client, releaser):
    page = client.get(reverse("pipeline_run", args=["hello", "Release"]))
    assert '<option value="prod">prod</option>' in page.content.decode()
    response = client.post(reverse("pipeline_run", args=["hello", "Release"]), {"env": "qa"})
    assert "Select a valid choice" in str(response.context["form"].errors["env"])
    assert not Execution.objects.exists()


def test_running_leads_to_the_execution_page_with_the_judgment(client, releaser, engine):
    execution = start(client, engine)
    page = client.get(reverse("execution_detail", args=[execution.id])).content.decode()
    assert "Ship prod?" in page
    assert ">Continue</button>" in page
    assert '<rect x="12"' in page  # the stage graph


def test_judging_from_the_page_continues_the_pipeline(client, releaser, engine):
    execution = start(client, engine)
    judgment = execution.stages.get(ref_id="2")
    client.post(
        reverse("execution_action", args=[execution.id, "continue"]),
        {"stage": judgment.id, "judgmentInput": "ship"},
    )
    engine.run()
    execution.refresh_from_db()
    assert execution.status == "SUCCEEDED"


def test_someone_outside_the_roles_sees_why_they_may_not_judge(client, releaser, engine, app):
    execution = start(client, engine)
    client.force_login(member(app, "otto", ["read", "execute"]))
    page = client.get(reverse("execution_detail", args=[execution.id])).content.decode()
    assert "Only members of release-managers may judge this stage" in page
    assert ">Continue</button>" not in page
    client.post(
        reverse("execution_action", args=[execution.id, "continue"]),
        {"stage": execution.stages.get(ref_id="2").id},
    )
    assert "judgmentStatus" not in execution.stages.get(ref_id="2").context


def test_a_reader_cannot_act(client, releaser, engine, app):
    execution = start(client, engine)
    client.force_login(member(app, "rob", ["read"]))
    response = client.post(reverse("execution_action", args=[execution.id, "cancel"]))
    assert response.status_code == 403
    assert Execution.objects.get().status == "RUNNING"


def test_polling_stops_once_the_execution_ends(client, releaser, engine):
    execution = start(client, engine)
    url = reverse("execution_detail", args=[execution.id])
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    client.post(reverse("execution_action", args=[execution.id, "cancel"]), {"reason": "no"})
    engine.run()
    ended = client.get(url, HTTP_HX_REQUEST="true")
    assert ended.status_code == 286
    assert "CANCELED" in ended.content.decode()


def test_the_list_shows_each_pipelines_recent_executions(
    client, releaser, engine, django_assert_max_num_queries
):
    for _ in range(3):
        start(client, engine)
    with django_assert_max_num_queries(13):  # one more than before: the recent tasks
        page = client.get(reverse("pipeline_list", args=["hello"]))
    rows = page.context["rows"]
    assert [(p.name, len(executions)) for p, executions in rows] == [("Release", 3)]
    # each waits at its judgment: the first stage done, the second running
    assert page.content.decode().count('class="segment s-SUCCEEDED"') == 3
    assert page.content.decode().count('class="segment s-RUNNING"') == 3


def test_the_json_editor_shows_errors_at_their_paths_and_keeps_the_text(client, releaser):
    bad = '{"name": "Release", "stages": [{"refId": "1", "type": "wait", "waitTime": -1}]}'
    pipeline = Pipeline.objects.get()
    response = client.post(reverse("pipeline_edit", args=["hello", "Release"]), {"config": bad})
    page = response.content.decode()
    assert "<code>/stages/0/waitTime</code>: cannot be negative" in page
    assert "&quot;waitTime&quot;: -1" in page
    assert Pipeline.objects.get().config == pipeline.config


def test_saving_json_makes_a_revision_and_shows_the_diff(client, releaser):
    edited = '{"name": "Release", "stages": [{"refId": "1", "type": "wait", "waitTime": 7}]}'
    client.post(reverse("pipeline_edit", args=["hello", "Release"]), {"config": edited})
    page = client.get(reverse("pipeline_edit", args=["hello", "Release"]), {"diff": "1,2"})
    assert "+      &quot;waitTime&quot;: 7" in page.content.decode()


def test_the_playground_evaluates_against_an_execution_and_points_at_errors(
    client, releaser, engine
):
    execution = start(client, engine)
    url = reverse("playground", args=["hello"])
    ok = client.get(
        url,
        {
            "execution": execution.id,
            "stage": "2",
            "expression": "${parameters.env}-${#stage('Approve')['status']}",
        },
    )
    assert ok.context["result"] == {"value": '"prod-RUNNING"'}
    assert "parameters" in ok.context["names"]
    broken = client.get(url, {"expression": "${1 +}", "context": "{}"})
    assert broken.context["result"]["column"] == 6


def test_the_editor_names_stage_types_spinui_does_not_know(client, releaser):
    kept = '{"name": "Release", "stages": [{"refId": "1", "type": "jenkins", "job": "build"}]}'
    client.post(reverse("pipeline_edit", args=["hello", "Release"]), {"config": kept})
    page = client.get(reverse("pipeline_edit", args=["hello", "Release"])).content.decode()
    assert "Stage types spinui does not know yet: <code>jenkins</code>" in page
