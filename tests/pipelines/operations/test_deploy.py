"""The deploy stage against a real localdcos: parallel clusters, images, outputs, retries."""

import pytest
from guardian.shortcuts import assign_perm

from pipelines import services
from pipelines.engine import handlers
from pipelines.engine.serialize import execution_json
from pipelines.expressions.functions import deployed_server_groups_of
from pipelines.stages import stage_type_for
from pipelines.status import Status
from spinui.models import Region
from tests.pipelines.operations.conftest import HELLO, orchestrate, settle


@pytest.fixture(autouse=True)
def quick_deploys(settings) -> None:
    settings.SPINUI_DEPLOY_POLL_SECONDS = 1


@pytest.fixture
def prod(dev, localdcos) -> Region:
    """A second region of the dev account: localdcos's other cluster."""
    return Region.objects.create(account=dev.account, name="prod", url=localdcos.url("prod"))


def cluster(**fields) -> dict:
    return {
        "account": "dev",
        "region": "dev",
        "cloudProvider": "dcos",
        "capacity": {"min": 1, "max": 1, "desired": 1},
        **HELLO,
        **fields,
    }


def deploy(*clusters: dict, **fields) -> dict:
    return {"type": "deploy", "name": "Deploy", "clusters": list(clusters), **fields}


def apps(localdcos, region: str = "dev") -> list[str]:
    return [a["id"] for a in localdcos.request("GET", "/v2/apps", region).json()["apps"]]


def test_it_deploys_a_cluster_and_outputs_spinnakers_keys(engine, app, deployer, localdcos):
    read_back = {
        "type": "evaluateVariables",
        "variables": [
            {"key": "deployed", "value": "${#deployedServerGroups()}"},
        ],
    }
    execution = orchestrate(engine, app, deployer, deploy(cluster(stack="web")), read_back)
    stage = execution.stages.get(ref_id="0")
    assert execution.status == Status.SUCCEEDED, stage.error
    assert stage.outputs["serverGroupNames"] == ["dev:hello-web-v000"]
    assert stage.outputs["deploy.server.groups"] == {"dev": ["hello-web-v000"]}
    marathon = localdcos.app("/dev/hello-web-v000")
    assert marathon["tasksRunning"] == 1
    assert marathon["container"]["docker"]["image"] == "spinui/hello:1.0"
    assert marathon["labels"]["spinui.cluster"] == "hello-web"
    deployed = execution.stages.get(ref_id="1").outputs["deployed"]
    assert [(d["account"], d["region"], d["serverGroup"]) for d in deployed] == [
        ("dev", "dev", "hello-web-v000")
    ]
    assert deployed[0]["capacity"]["desired"] == 1


def test_two_regions_deploy_in_parallel(engine, app, deployer, localdcos, prod):
    execution = orchestrate(
        engine,
        app,
        deployer,
        deploy(cluster(capacity={"desired": 2}), cluster(region="prod")),
        wait=False,
    )
    engine.run(until=engine.time)  # the stage's first look
    stage = execution.stages.get(ref_id="0")
    assert stage.status == Status.RUNNING
    # Both exist before either is up: the second did not wait for the first.
    assert [d["marathonId"] for d in stage.context["deployments"]] == [
        "/dev/hello-v000",
        "/dev/hello-v000",
    ]
    assert not any(d.get("done") for d in stage.context["deployments"])
    assert apps(localdcos, "dev") == ["/dev/hello-v000"]
    assert apps(localdcos, "prod") == ["/dev/hello-v000"]
    execution = settle(engine, execution)
    stage.refresh_from_db()
    assert execution.status == Status.SUCCEEDED, stage.error
    assert stage.outputs["deploy.server.groups"] == {
        "dev": ["hello-v000"],
        "prod": ["hello-v000"],
    }
    assert stage.outputs["serverGroupNames"] == ["dev:hello-v000", "prod:hello-v000"]
    assert [
        (d["region"], d["capacity"]["desired"]) for d in stage.outputs["deploymentDetails"]
    ] == [
        ("dev", 2),
        ("prod", 1),
    ]
    assert localdcos.app("/dev/hello-v000")["tasksRunning"] == 2
    scope = execution_json(execution)
    assert [(d["region"], d["serverGroup"]) for d in deployed_server_groups_of(scope, [])] == [
        ("dev", "hello-v000"),
        ("prod", "hello-v000"),
    ]


def test_it_takes_the_image_tag_from_a_matching_docker_trigger(
    engine, app, deployer, localdcos, run_pipeline
):
    image = {"fromTrigger": True, "registry": "docker.io", "repository": "spinui/hello"}
    pipeline = run_pipeline.save(
        [{"refId": "1", **deploy(cluster(docker={"image": image}))}], name="from trigger"
    )
    trigger = {
        "type": "docker",
        "registry": "docker.io",
        "repository": "spinui/hello",
        "tag": "1.1",
    }
    execution = services.execution_start(pipeline=pipeline, trigger=trigger, user=deployer)
    execution = settle(engine, execution)
    assert execution.status == Status.SUCCEEDED, execution.stages.get().error
    assert localdcos.app("/dev/hello-v000")["container"]["docker"]["image"] == "spinui/hello:1.1"


def test_a_trigger_of_another_repository_fails_the_stage_before_anything_is_created(
    engine, app, deployer, localdcos, run_pipeline
):
    image = {"fromTrigger": True, "repository": "spinui/hello"}
    pipeline = run_pipeline.save(
        [{"refId": "1", **deploy(cluster(stack="web", docker={"image": image}))}],
        name="other repository",
    )
    trigger = {"type": "docker", "repository": "spinui/other", "tag": "2.0"}
    execution = services.execution_start(pipeline=pipeline, trigger=trigger, user=deployer)
    execution = settle(engine, execution)
    assert execution.status == Status.TERMINAL
    assert execution.stages.get().error == (
        "clusters/0 (hello-web in dev/dev): docker.image.fromTrigger: the trigger (docker) "
        "carries no tag of spinui/hello"
    )
    assert apps(localdcos) == []


def test_it_takes_the_image_an_upstream_stage_found_for_its_region(
    engine, app, deployer, localdcos
):
    found = {
        "type": "evaluateVariables",
        "variables": [
            {
                "key": "deploymentDetails",
                "value": [
                    {"refId": "0", "region": "prod", "imageId": "spinui/hello:1.2"},
                    {"refId": "0", "region": "dev", "imageId": "spinui/hello:1.1"},
                ],
            }
        ],
    }
    image = {"fromContext": True, "stageId": "0"}
    execution = orchestrate(engine, app, deployer, found, deploy(cluster(docker={"image": image})))
    stage = execution.stages.get(ref_id="1")
    assert execution.status == Status.SUCCEEDED, stage.error
    assert localdcos.app("/dev/hello-v000")["container"]["docker"]["image"] == "spinui/hello:1.1"
    assert stage.outputs["deploymentDetails"][0]["imageId"] == "spinui/hello:1.1"


def test_an_upstream_stage_without_an_image_fails_the_stage_naming_the_entry(
    engine, app, deployer, localdcos
):
    nothing = {
        "type": "evaluateVariables",
        "variables": [{"key": "deploymentDetails", "value": []}],
    }
    image = {"fromContext": True, "stageId": "0"}
    execution = orchestrate(
        engine, app, deployer, nothing, deploy(cluster(docker={"image": image}))
    )
    assert execution.status == Status.TERMINAL
    assert execution.stages.get(ref_id="1").error == (
        "clusters/0 (hello in dev/dev): docker.image.fromContext: stage 'evaluateVariables' (0) "
        "found no image for region dev"
    )
    assert apps(localdcos) == []


def test_a_retried_run_finds_the_apps_it_made_instead_of_making_more(
    engine, app, deployer, localdcos, prod
):
    execution = orchestrate(
        engine, app, deployer, deploy(cluster(), cluster(region="prod")), wait=False
    )
    engine.run(until=engine.time)  # both created, not yet recorded as far as the retry knows
    stage = execution.stages.get(ref_id="0")
    context = {k: v for k, v in stage.context.items() if k != "deployments"}
    run = handlers._stage_run(stage, stage.execution, None)
    run.context = context
    outcome = stage_type_for("deploy").run(run)
    assert outcome.status == Status.RUNNING
    assert [d["foundExisting"] for d in outcome.context["deployments"]] == [True, True]
    assert [d["marathonId"] for d in outcome.context["deployments"]] == [
        "/dev/hello-v000",
        "/dev/hello-v000",
    ]
    assert apps(localdcos, "dev") == ["/dev/hello-v000"]
    assert apps(localdcos, "prod") == ["/dev/hello-v000"]


def test_it_refuses_at_start_a_run_as_user_without_write_on_the_account(
    engine, app, alice, localdcos, dev
):
    assign_perm("write_application", alice, app)
    execution = orchestrate(engine, app, alice, deploy(cluster()))
    assert execution.status == Status.TERMINAL
    assert execution.stages.get().error == "alice may not deploy into account dev (WRITE needed)"
    assert apps(localdcos) == []


def test_an_account_given_by_an_expression_is_checked_when_the_stage_starts(
    engine, app, deployer, localdcos, run_pipeline
):
    pipeline = run_pipeline.save(
        [{"refId": "1", **deploy(cluster(account="${parameters.account}"))}],
        name="account from a parameter",
        parameterConfig=[{"name": "account"}],
    )
    trigger = {"parameters": {"account": "nope"}}
    execution = services.execution_start(pipeline=pipeline, trigger=trigger, user=deployer)
    execution = settle(engine, execution)
    assert execution.status == Status.TERMINAL
    assert execution.stages.get().error == "/clusters/0/account: no account 'nope'"
    assert apps(localdcos) == []


def test_it_promotes_the_image_a_find_image_stage_found_in_another_region(
    engine, app, deployer, localdcos, prod
):
    promoted = {"image": {"imageId": "spinui/hello:1.3"}}
    orchestrate(engine, app, deployer, deploy(cluster(docker=promoted)))
    find = {
        "type": "findImage",
        "credentials": "dev",
        "regions": ["dev"],
        "cluster": "hello",
        "selectionStrategy": "NEWEST",
    }
    image = {"fromContext": True, "stageId": "0"}
    execution = orchestrate(
        engine, app, deployer, find, deploy(cluster(region="prod", docker={"image": image}))
    )
    assert execution.status == Status.SUCCEEDED, execution.stages.get(ref_id="1").error
    running = localdcos.request("GET", "/v2/apps/dev/hello-v000", "prod").json()["app"]
    assert running["container"]["docker"]["image"] == "spinui/hello:1.3"
