from pipelines.models import DisabledCapacity
from pipelines.status import Status
from tests.pipelines.operations.conftest import HEALTH, create, only_stage, orchestrate
from tests.pipelines.operations.test_cluster_stages_disable_and_scale_down import cluster_stage
from tests.pipelines.operations.test_cluster_stages_shrink import apps
from tests.pipelines.operations.test_server_group_operations import named


def test_rollback_enables_the_previous_server_group_then_disables_the_current_one(
    engine, app, deployer, localdcos
):
    orchestrate(
        engine, app, deployer, create(stack="web", capacity={"desired": 2}, healthChecks=HEALTH)
    )
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, cluster_stage("disableCluster"))
    assert apps(localdcos) == {"/dev/hello-web-v000": 0, "/dev/hello-web-v001": 1}

    execution = orchestrate(
        engine,
        app,
        deployer,
        cluster_stage("rollbackCluster", targetHealthyRollbackPercentage=100),
    )
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    assert apps(localdcos) == {"/dev/hello-web-v000": 2, "/dev/hello-web-v001": 0}
    assert localdcos.app("/dev/hello-web-v000")["tasksHealthy"] == 2
    steps = execution.stages.exclude(ref_id="0").order_by("ref_id")
    assert [(s.name, s.status) for s in steps] == [
        ("Enable hello-web-v000 in dev", Status.SUCCEEDED),
        ("Disable hello-web-v001 in dev", Status.SUCCEEDED),
    ]
    assert only_stage(execution).context["rollbacks"] == [
        {
            "account": "dev",
            "region": "dev",
            "rollbackServerGroup": "hello-web-v001",
            "restoreServerGroup": "hello-web-v000",
            "capacity": 1,
        }
    ]
    # What was rolled back is remembered, so it can be enabled again.
    assert dict(DisabledCapacity.objects.values_list("name", "instances")) == {"hello-web-v001": 1}


def test_without_a_remembered_capacity_the_previous_one_gets_the_current_ones(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(
        engine,
        app,
        deployer,
        named("resizeServerGroup", "hello-web-v000", capacity={"desired": 0}),
    )
    orchestrate(engine, app, deployer, create(stack="web", capacity={"desired": 2}))
    execution = orchestrate(engine, app, deployer, cluster_stage("rollbackCluster"))
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    assert apps(localdcos) == {"/dev/hello-web-v000": 2, "/dev/hello-web-v001": 0}


def test_rollback_fails_clearly_when_there_is_no_previous_server_group(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web"))
    execution = orchestrate(engine, app, deployer, cluster_stage("rollbackCluster"))
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == (
        "cluster hello-web has no previous server group to roll back to in dev/dev "
        "(only hello-web-v000)"
    )
    assert apps(localdcos) == {"/dev/hello-web-v000": 1}
