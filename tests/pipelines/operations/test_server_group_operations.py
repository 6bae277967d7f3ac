from pipelines.models import DisabledCapacity
from pipelines.status import Status
from tests.pipelines.operations.conftest import HEALTH, create, only_stage, orchestrate


def act(type_: str, **fields) -> dict:
    return {"type": type_, "credentials": "dev", "regions": ["dev"], **fields}


def named(type_: str, name: str, **fields) -> dict:
    return act(type_, serverGroupName=name, **fields)


def running(localdcos, app_id: str) -> list[str]:
    app = localdcos.app(app_id)
    return [t["id"] for t in app["tasks"] if t["state"] == "TASK_RUNNING"]


def test_resize_disable_enable_and_destroy_one_server_group(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(capacity={"desired": 2}, healthChecks=HEALTH))
    before = localdcos.app("/dev/hello-v000")

    resized = orchestrate(
        engine, app, deployer, named("resizeServerGroup", "hello-v000", capacity={"desired": 3})
    )
    assert resized.status == Status.SUCCEEDED, only_stage(resized).error
    after = localdcos.app("/dev/hello-v000")
    assert after["instances"] == after["tasksHealthy"] == 3
    # A scale only: the first two tasks still run and the config did not change.
    assert set(t["id"] for t in before["tasks"]) <= set(running(localdcos, "/dev/hello-v000"))
    assert after["versionInfo"]["lastConfigChangeAt"] == before["versionInfo"]["lastConfigChangeAt"]

    disabled = orchestrate(engine, app, deployer, named("disableServerGroup", "hello-v000"))
    assert disabled.status == Status.SUCCEEDED, only_stage(disabled).error
    assert localdcos.app("/dev/hello-v000")["instances"] == 0
    assert running(localdcos, "/dev/hello-v000") == []
    assert DisabledCapacity.objects.get(name="hello-v000").instances == 3

    enabled = orchestrate(engine, app, deployer, named("enableServerGroup", "hello-v000"))
    assert enabled.status == Status.SUCCEEDED, only_stage(enabled).error
    assert localdcos.app("/dev/hello-v000")["tasksHealthy"] == 3
    assert not DisabledCapacity.objects.exists()
    last = localdcos.app("/dev/hello-v000")["versionInfo"]["lastConfigChangeAt"]
    assert last == before["versionInfo"]["lastConfigChangeAt"]

    destroyed = orchestrate(engine, app, deployer, named("destroyServerGroup", "hello-v000"))
    assert destroyed.status == Status.SUCCEEDED, only_stage(destroyed).error
    assert localdcos.request("GET", "/v2/apps/dev/hello-v000").status_code == 404


def test_resize_scales_up_and_down_by_a_number_or_a_percentage(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(capacity={"desired": 2}))
    orchestrate(
        engine,
        app,
        deployer,
        named("resizeServerGroup", "hello-v000", action="scale_up", scaleNum=2),
    )
    assert localdcos.app("/dev/hello-v000")["instances"] == 4
    orchestrate(
        engine,
        app,
        deployer,
        named("resizeServerGroup", "hello-v000", action="scale_down", scalePct=50),
    )
    assert localdcos.app("/dev/hello-v000")["instances"] == 2


def test_targets_resolve_to_the_newest_previous_and_oldest_server_group(
    engine, app, deployer, localdcos
):
    for _ in range(3):
        orchestrate(engine, app, deployer, create(stack="web"))
    for target, desired in (
        ("current_asg_dynamic", 2),
        ("ancestor_asg_dynamic", 3),
        ("oldest_asg_dynamic", 4),
    ):
        execution = orchestrate(
            engine,
            app,
            deployer,
            act(
                "resizeServerGroup",
                cluster="hello-web",
                target=target,
                capacity={"desired": desired},
            ),
        )
        assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    instances = {
        name: localdcos.app(f"/dev/{name}")["instances"]
        for name in ("hello-web-v000", "hello-web-v001", "hello-web-v002")
    }
    assert instances == {"hello-web-v000": 4, "hello-web-v001": 3, "hello-web-v002": 2}


def test_a_target_that_resolves_to_nothing_fails_the_stage_naming_it(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web"))
    execution = orchestrate(
        engine,
        app,
        deployer,
        act("disableServerGroup", cluster="hello-web", target="ancestor_asg_dynamic"),
    )
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == (
        "target ancestor_asg_dynamic (previous server group) of cluster hello-web "
        "resolves to nothing in dev/dev"
    )
    empty = orchestrate(
        engine,
        app,
        deployer,
        act("destroyServerGroup", cluster="hello-api", target="current_asg_dynamic"),
    )
    assert "cluster hello-api resolves to nothing" in only_stage(empty).error


def test_an_explicit_server_group_that_does_not_exist_fails_naming_it(
    engine, app, deployer, localdcos, dev
):
    execution = orchestrate(engine, app, deployer, named("destroyServerGroup", "hello-v007"))
    assert only_stage(execution).error == "server group hello-v007 does not exist in dev/dev"


def test_it_will_not_touch_a_server_group_of_another_application(engine, app, deployer, localdcos):
    localdcos.create({"id": "/dev/other-v000"})
    execution = orchestrate(engine, app, deployer, named("destroyServerGroup", "other-v000"))
    assert only_stage(execution).error == "other-v000 belongs to application other, not hello"
    assert localdcos.request("GET", "/v2/apps/dev/other-v000").status_code == 200


def test_terminate_an_instance_with_and_without_shrinking(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(capacity={"desired": 3}))
    first, *_ = running(localdcos, "/dev/hello-v000")
    replaced = orchestrate(
        engine,
        app,
        deployer,
        {
            "type": "terminateInstances",
            "credentials": "dev",
            "region": "dev",
            "serverGroupName": "hello-v000",
            "instanceIds": [first],
        },
    )
    assert replaced.status == Status.SUCCEEDED, only_stage(replaced).error
    tasks = running(localdcos, "/dev/hello-v000")
    assert first not in tasks and len(tasks) == 3

    second = tasks[0]
    shrunk = orchestrate(
        engine,
        app,
        deployer,
        {
            "type": "terminateInstances",
            "credentials": "dev",
            "region": "dev",
            "serverGroupName": "hello-v000",
            "instanceIds": [second],
            "shrink": True,
        },
    )
    assert shrunk.status == Status.SUCCEEDED, only_stage(shrunk).error
    assert localdcos.app("/dev/hello-v000")["instances"] == 2
    assert second not in running(localdcos, "/dev/hello-v000")


def test_clone_copies_the_definition_with_overrides_and_a_new_operation(
    engine, app, deployer, localdcos
):
    orchestrate(
        engine,
        app,
        deployer,
        create(stack="web", env={"GREETING": "clone"}, labels={"team": "a"}, healthChecks=HEALTH),
    )
    clone = orchestrate(
        engine,
        app,
        deployer,
        {
            "type": "cloneServerGroup",
            "source": {"account": "dev", "region": "dev", "serverGroupName": "hello-web-v000"},
            "capacity": {"desired": 2},
        },
    )
    assert clone.status == Status.SUCCEEDED, only_stage(clone).error
    original, copy = localdcos.app("/dev/hello-web-v000"), localdcos.app("/dev/hello-web-v001")
    assert copy["instances"] == 2 and copy["tasksHealthy"] == 2
    assert copy["env"] == {"GREETING": "clone"}
    assert copy["labels"]["team"] == "a"
    assert copy["healthChecks"][0]["path"] == "/health"
    assert copy["labels"]["spinui.operation"] != original["labels"]["spinui.operation"]
    assert copy["labels"]["spinui.sequence"] == "1"


def test_a_stage_with_a_bad_config_is_refused_with_json_paths(engine, app, deployer, dev):
    import pytest

    from pipelines import services
    from pipelines.config import InvalidConfig

    with pytest.raises(InvalidConfig) as refused:
        services.orchestration_start(
            application=app,
            description="bad",
            user=deployer,
            stages=[
                {
                    "type": "resizeServerGroup",
                    "regions": ["dev"],
                    "cluster": "hello",
                    "target": "newest",
                    "capacity": {"desired": "many"},
                },
                create(cpus="lots", networkType="OVERLAY", constraints="hostname"),
            ],
        )
    paths = {error.path for error in refused.value.errors}
    assert {
        "/job/0/credentials",
        "/job/0/target",
        "/job/0/capacity/desired",
        "/job/1/cpus",
        "/job/1/networkType",
        "/job/1/constraints",
    } <= paths


def test_a_pipeline_deploys_then_resizes_with_the_same_stages(
    engine, app, deployer, localdcos, run_pipeline
):
    from tests.pipelines.operations.conftest import settle

    execution = run_pipeline(
        [
            {"refId": "1", "requisiteStageRefIds": [], "name": "Deploy", **create(stack="prod")},
            {
                "refId": "2",
                "requisiteStageRefIds": ["1"],
                "name": "Grow",
                **act(
                    "resizeServerGroup",
                    cluster="hello-prod",
                    target="current_asg_dynamic",
                    capacity={"desired": 3},
                ),
            },
        ],
        settle=False,
    )
    execution = settle(engine, execution)
    assert execution.status == Status.SUCCEEDED
    assert execution.stages.get(ref_id="1").outputs["deploy.server.groups"] == {
        "dev": ["hello-prod-v000"]
    }
    assert localdcos.app("/dev/hello-prod-v000")["instances"] == 3


def test_terminate_and_decrement_is_a_terminate_that_shrinks(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(capacity={"desired": 2}))
    task, _ = running(localdcos, "/dev/hello-v000")
    execution = orchestrate(
        engine,
        app,
        deployer,
        {
            "type": "terminateInstanceAndDecrementServerGroup",
            "credentials": "dev",
            "region": "dev",
            "serverGroupName": "hello-v000",
            "instanceIds": [task],
        },
    )
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    assert localdcos.app("/dev/hello-v000")["instances"] == 1
