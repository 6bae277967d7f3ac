from pipelines.status import Status
from tests.pipelines.operations.conftest import create, only_stage, orchestrate
from tests.pipelines.operations.test_server_group_operations import named
from tests.pipelines.operations.test_traffic_guards import guard


def shrink(**fields) -> dict:
    return {
        "type": "shrinkCluster",
        "credentials": "dev",
        "regions": ["dev"],
        "cluster": "hello-web",
        **fields,
    }


def apps(localdcos) -> dict[str, int]:
    """Every app of the dev account, with its instances."""
    found = localdcos.request("GET", "/v2/apps").json()["apps"]
    return {app["id"]: app["instances"] for app in found if app["id"].startswith("/dev/")}


def three_server_groups(engine, app, deployer, **fields) -> None:
    for _ in range(3):
        orchestrate(engine, app, deployer, create(stack="web", **fields))


def test_the_highlander_shrink_keeps_only_the_newest_server_group(engine, app, deployer, localdcos):
    three_server_groups(engine, app, deployer)
    orchestrate(engine, app, deployer, create(stack="api"))
    # Exactly what the deploy stage's highlander strategy emits.
    highlander = {
        "type": "shrinkCluster",
        "name": "shrinkCluster",
        "credentials": "dev",
        "regions": ["dev"],
        "cluster": "hello-web",
        "shrinkToSize": 1,
        "allowDeleteActive": True,
        "retainLargerOverNewer": False,
    }
    execution = orchestrate(engine, app, deployer, highlander)
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    assert apps(localdcos) == {"/dev/hello-web-v002": 1, "/dev/hello-api-v000": 1}
    assert only_stage(execution).outputs["deploy.server.groups"] == {
        "dev": ["hello-web-v001", "hello-web-v000"]
    }


def test_without_allow_delete_active_enabled_server_groups_are_never_destroyed(
    engine, app, deployer, localdcos
):
    three_server_groups(engine, app, deployer)
    orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v001"))
    execution = orchestrate(engine, app, deployer, shrink(shrinkToSize=1))
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    # The two enabled ones count as kept; only the disabled one goes.
    assert apps(localdcos) == {"/dev/hello-web-v000": 1, "/dev/hello-web-v002": 1}


def test_retain_larger_over_newer_keeps_the_largest_server_group(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(stack="web", capacity={"desired": 2}))
    orchestrate(engine, app, deployer, create(stack="web"))
    execution = orchestrate(
        engine,
        app,
        deployer,
        shrink(shrinkToSize=1, allowDeleteActive=True, retainLargerOverNewer=True),
    )
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    assert apps(localdcos) == {"/dev/hello-web-v000": 2}


def test_a_traffic_guard_refuses_a_shrink_that_leaves_nothing_up_and_nothing_changes(
    engine, app, deployer, localdcos
):
    three_server_groups(engine, app, deployer)
    guard(app)
    execution = orchestrate(engine, app, deployer, shrink(shrinkToSize=0, allowDeleteActive=True))
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == (
        "refused: traffic guard dev/dev/web/- protects cluster hello-web in dev/dev: "
        "this would leave it with no Up instances (it has 3 now)"
    )
    assert len(apps(localdcos)) == 3


def test_a_shrink_needs_write_on_the_account(engine, app, alice, deployer, localdcos):
    from guardian.shortcuts import remove_perm

    orchestrate(engine, app, deployer, create(stack="web"))
    remove_perm("write_account", alice, deployer.region.account)
    execution = orchestrate(engine, app, alice, shrink(shrinkToSize=0, allowDeleteActive=True))
    assert only_stage(execution).error == "alice may not deploy into account dev (WRITE needed)"
    assert apps(localdcos) == {"/dev/hello-web-v000": 1}


def test_a_strategys_shrink_never_touches_what_its_deploy_made_or_anything_newer(
    engine, app, deployer, localdcos
):
    from django.utils import timezone

    from pipelines.stages import StageRun, stage_type_for

    three_server_groups(engine, app, deployer)
    # hello-web-v001 is what the enclosing deploy made; v002 appeared after it.
    deploy = {
        "id": "deploy",
        "type": "deploy",
        "context": {"deploy.server.groups": {"dev": ["hello-web-v001"]}},
        "parentStageId": None,
    }
    mine = {"id": "shrink", "type": "shrinkCluster", "context": {}, "parentStageId": "deploy"}
    moment = timezone.now()
    run = StageRun(
        stage_id="shrink",
        execution_id="e",
        ref_id="1>1",
        name="shrinkCluster",
        context=shrink(shrinkToSize=1, allowDeleteActive=True),
        started_at=moment,
        now=moment,
        run_as=deployer.username,
        execution={"application": "hello", "stages": [deploy, mine]},
        evaluate=lambda text, extra: text,
    )
    targets = stage_type_for("shrinkCluster").targets(run, app)
    assert [target.name for target in targets] == ["hello-web-v000"]
    run.execution["stages"] = [mine]
    targets = stage_type_for("shrinkCluster").targets(run, app)
    assert [target.name for target in targets] == ["hello-web-v001", "hello-web-v000"]
