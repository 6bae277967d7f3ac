import pytest

from pipelines.status import Status
from tests.pipelines.operations.conftest import create, only_stage, orchestrate
from tests.pipelines.operations.test_server_group_operations import named, running

GUARD = {"account": "dev", "location": "dev", "stack": "web", "detail": "", "enabled": True}


def guard(app, **fields) -> None:
    app.attributes = {"trafficGuards": [{**GUARD, **fields}]}
    app.save()


@pytest.fixture
def one_server_group(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(stack="web", capacity={"desired": 2}))
    guard(app)


def refused(execution) -> str:
    assert execution.status == Status.TERMINAL
    return only_stage(execution).error


OPERATIONS = {
    "destroy": named("destroyServerGroup", "hello-web-v000"),
    "disable": named("disableServerGroup", "hello-web-v000"),
    "resize to 0": named("resizeServerGroup", "hello-web-v000", capacity={"desired": 0}),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_guard_refuses_leaving_its_only_server_group_with_no_up_instances(
    engine, app, deployer, localdcos, one_server_group, operation
):
    error = refused(orchestrate(engine, app, deployer, OPERATIONS[operation]))
    assert error == (
        "refused: traffic guard dev/dev/web/- protects cluster hello-web in dev/dev: "
        "this would leave it with no Up instances (it has 2 now)"
    )
    app_json = localdcos.app("/dev/hello-web-v000")
    assert app_json["instances"] == 2 and len(running(localdcos, "/dev/hello-web-v000")) == 2


def test_a_guard_refuses_terminating_the_last_up_instances(
    engine, app, deployer, localdcos, one_server_group
):
    tasks = running(localdcos, "/dev/hello-web-v000")
    terminate = {
        "type": "terminateInstances",
        "credentials": "dev",
        "region": "dev",
        "serverGroupName": "hello-web-v000",
        "instanceIds": tasks,
    }
    assert "traffic guard dev/dev/web/-" in refused(orchestrate(engine, app, deployer, terminate))
    one = {**terminate, "instanceIds": tasks[:1]}
    assert orchestrate(engine, app, deployer, one).status == Status.SUCCEEDED


def test_resizing_down_but_not_to_zero_passes_the_guard(
    engine, app, deployer, localdcos, one_server_group
):
    resize = named("resizeServerGroup", "hello-web-v000", capacity={"desired": 1})
    assert orchestrate(engine, app, deployer, resize).status == Status.SUCCEEDED


def test_with_several_server_groups_one_may_go_while_another_stays_up(
    engine, app, deployer, localdcos, one_server_group
):
    orchestrate(engine, app, deployer, create(stack="web"))
    destroy_old = named("destroyServerGroup", "hello-web-v000")
    assert orchestrate(engine, app, deployer, destroy_old).status == Status.SUCCEEDED
    # Now the newest is the last one Up: it is guarded.
    error = refused(
        orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v001"))
    )
    assert "protects cluster hello-web" in error


def test_with_several_server_groups_the_guard_counts_those_already_disabled(
    engine, app, deployer, localdcos, one_server_group
):
    orchestrate(engine, app, deployer, create(stack="web"))
    guard(app, enabled=False)
    orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v001"))
    guard(app)
    error = refused(
        orchestrate(engine, app, deployer, named("destroyServerGroup", "hello-web-v000"))
    )
    assert "(it has 2 now)" in error


def test_a_cluster_with_nothing_up_is_not_protected(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(stack="web", capacity={"desired": 0}))
    guard(app)
    destroy = named("destroyServerGroup", "hello-web-v000")
    assert orchestrate(engine, app, deployer, destroy).status == Status.SUCCEEDED


@pytest.mark.parametrize(
    ("fields", "guarded"),
    [
        ({"account": "*", "location": "*", "stack": "*"}, True),
        ({"stack": "*", "detail": "*"}, True),
        ({"stack": "api"}, False),
        ({"location": "prod"}, False),
        ({"enabled": False}, False),
    ],
)
def test_guards_match_with_wildcards_and_can_be_turned_off(
    engine, app, deployer, localdcos, one_server_group, fields, guarded
):
    guard(app, **fields)
    execution = orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v000"))
    assert (execution.status == Status.TERMINAL) is guarded
