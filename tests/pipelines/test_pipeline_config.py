"""Pipeline configs: Spinnaker's JSON kept as given, validated with JSON paths, revisioned."""

import pytest
from django.contrib.auth.models import User

from pipelines import services
from pipelines.config import InvalidConfig, resolve_parameters
from pipelines.models import Pipeline
from spinui.models import Application


@pytest.fixture
def app(db):
    return Application.objects.create(name="hello", email="t@example.com")


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob")


def save(app, bob, **config):
    return services.pipeline_save(actor=bob, application=app, config={"name": "p", **config})


def errors_of(app, bob, **config) -> dict[str, list[str]]:
    with pytest.raises(InvalidConfig) as caught:
        save(app, bob, **config)
    return {d["path"]: d["errors"] for d in caught.value.details()}


def test_a_spinnaker_export_keeps_its_id_and_unknown_stage_types(app, bob):
    exported = {
        "id": "5f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
        "application": "hello",
        "name": "Deploy to prod",
        "stages": [
            {"refId": "1", "type": "wait", "name": "Wait", "waitTime": 5},
            {
                "refId": "2",
                "type": "jenkins",
                "name": "Build",
                "requisiteStageRefIds": ["1"],
                "master": "ci",
                "job": "build",
            },
        ],
        "triggers": [],
        "keepWaitingPipelines": False,
        "spelEvaluator": "v4",
    }
    pipeline = services.pipeline_save(actor=bob, application=app, config=exported)
    assert pipeline.id == "5f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
    assert pipeline.config["stages"][1] == exported["stages"][1]
    assert pipeline.config["spelEvaluator"] == "v4"


@pytest.mark.parametrize(
    "stages,path,message",
    [
        ([{"type": "wait", "waitTime": 1}], "/stages/0/refId", "every stage needs a refId"),
        (
            [
                {"refId": "1", "type": "wait", "waitTime": 1},
                {"refId": "1", "type": "wait", "waitTime": 1},
            ],
            "/stages/1/refId",
            "'1' is also stage 0's",
        ),
        (
            [{"refId": "1", "type": "wait", "waitTime": 1, "requisiteStageRefIds": ["9"]}],
            "/stages/0/requisiteStageRefIds/0",
            "no stage has refId '9'",
        ),
        (
            [
                {"refId": "1", "type": "wait", "waitTime": 1, "requisiteStageRefIds": ["2"]},
                {"refId": "2", "type": "wait", "waitTime": 1, "requisiteStageRefIds": ["1"]},
            ],
            "/stages/0/requisiteStageRefIds",
            "cycle: 1 → 2 → 1",
        ),
        (
            [{"refId": "1", "type": "wait", "waitTime": -3}],
            "/stages/0/waitTime",
            "cannot be negative",
        ),
        (
            [{"refId": "1", "type": "wait", "waitTime": 1, "stageTimeoutMs": "soon"}],
            "/stages/0/stageTimeoutMs",
            "give a positive number of ms",
        ),
        (
            [
                {
                    "refId": "1",
                    "type": "wait",
                    "waitTime": 1,
                    "restrictExecutionDuringTimeWindow": True,
                    "restrictedExecutionWindow": {
                        "whitelist": [{"startHour": 25, "startMin": 0, "endHour": 3, "endMin": 0}]
                    },
                }
            ],
            "/stages/0/restrictedExecutionWindow/whitelist/0/startHour",
            "give 0 to 23",
        ),
        (
            [
                {
                    "refId": "1",
                    "type": "wait",
                    "waitTime": 1,
                    "restrictExecutionDuringTimeWindow": True,
                    "restrictedExecutionWindow": {"days": [0, 8]},
                }
            ],
            "/stages/0/restrictedExecutionWindow/days",
            "give days 1 (Sunday) to 7 (Saturday)",
        ),
        ([{"refId": "1"}], "/stages/0/type", "every stage needs a type"),
        ("nope", "/stages", "give a list of stages"),
    ],
)
def test_invalid_stages_are_refused_at_their_json_path(app, bob, stages, path, message):
    errors = errors_of(app, bob, stages=stages)
    assert any(message in m for m in errors[path]), errors
    assert not Pipeline.objects.exists()


def test_parameters_are_declared_once_each(app, bob):
    errors = errors_of(app, bob, stages=[], parameterConfig=[{"name": "env"}, {"name": "env"}])
    assert errors == {"/parameterConfig/1/name": ["'env' is declared twice"]}


def test_every_save_is_a_revision_and_an_old_one_can_be_restored(app, bob):
    pipeline = save(app, bob, stages=[{"refId": "1", "type": "wait", "waitTime": 1}])
    save(app, bob, id=pipeline.id, stages=[{"refId": "1", "type": "wait", "waitTime": 9}])
    assert [r.number for r in pipeline.revisions.all()] == [2, 1]
    services.revision_restore(actor=bob, revision=pipeline.revisions.get(number=1))
    pipeline.refresh_from_db()
    assert pipeline.config["stages"][0]["waitTime"] == 1
    assert pipeline.revisions.count() == 3


def test_two_pipelines_of_an_application_cannot_share_a_name(app, bob):
    save(app, bob, stages=[])
    assert errors_of(app, bob, stages=[]) == {"/name": ["'p' is taken in hello"]}


def test_an_application_with_pipelines_cannot_be_deleted(app, bob):
    from spinui.services import InUse, application_delete

    save(app, bob, stages=[])
    bob.is_superuser = True
    with pytest.raises(InUse, match="still used by pipeline p"):
        application_delete(actor=bob, application=app)


CONFIG = {
    "parameterConfig": [
        {
            "name": "env",
            "required": True,
            "hasOptions": True,
            "options": [{"value": "dev"}, {"value": "prod"}],
        },
        {"name": "replicas", "default": "2"},
        {"name": "note"},
    ]
}


def test_parameters_take_defaults_and_keep_extra_values():
    assert resolve_parameters(CONFIG, {"env": "prod", "extra": "x"}) == {
        "env": "prod",
        "replicas": "2",
        "note": None,
        "extra": "x",
    }


@pytest.mark.parametrize(
    "given,path,message",
    [
        ({}, "/parameters/env", "is required"),
        ({"env": "staging"}, "/parameters/env", "must be one of dev, prod"),
    ],
)
def test_a_run_with_bad_parameters_is_refused(given, path, message):
    with pytest.raises(InvalidConfig) as caught:
        resolve_parameters(CONFIG, given)
    assert caught.value.details() == [{"path": path, "errors": [message]}]


def test_an_unknown_stage_type_is_refused_when_the_pipeline_runs(app, bob):
    pipeline = save(app, bob, stages=[{"refId": "1", "type": "jenkins"}])
    with pytest.raises(InvalidConfig, match="unknown stage type 'jenkins'"):
        services.execution_start(pipeline=pipeline, trigger=None, user=bob)
    assert not pipeline.executions.exists()


def test_deleting_an_application_in_use_says_what_refers_to_it(client, app, bob):
    for index in range(7):
        save(app, bob, name=f"p{index}", stages=[])
    bob.is_superuser = True
    bob.save()
    client.force_login(bob)
    response = client.post(f"/applications/{app.name}/delete/", follow=True)
    message = str(list(response.context["messages"])[0])
    assert message == (
        "Application hello is still used by pipeline p0, pipeline p1, pipeline p2, "
        "pipeline p3, pipeline p4 and 2 more; remove those first."
    )
    assert Application.objects.filter(name="hello").exists()


def test_naming_a_run_as_account_needs_a_role_shared_with_it(app, bob):
    from django.contrib.auth.models import Group

    robot = User.objects.create_user("deploy-bot")
    triggers = [{"type": "docker", "enabled": True, "runAsUser": "deploy-bot"}]
    errors = errors_of(app, bob, stages=[], triggers=triggers)
    assert errors == {
        "/triggers/0/runAsUser": ["you share no role with 'deploy-bot', so you may not run as it"]
    }
    role = Group.objects.create(name="deployers")
    robot.groups.add(role)
    bob.groups.add(role)
    assert save(app, bob, stages=[], triggers=triggers).config["triggers"] == triggers


def test_a_run_as_account_that_does_not_exist_is_refused(app, bob):
    errors = errors_of(app, bob, stages=[], triggers=[{"type": "cron", "runAsUser": "ghost"}])
    assert errors == {"/triggers/0/runAsUser": ["no active user 'ghost'"]}
