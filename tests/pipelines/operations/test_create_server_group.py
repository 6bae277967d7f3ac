import pytest
from guardian.shortcuts import assign_perm

from pipelines import server_groups as sg
from pipelines.engine import handlers
from pipelines.models import ReservedName
from pipelines.stages import stage_type_for
from pipelines.status import Status
from providers.dcos.naming import ServerGroupName
from tests.pipelines.operations.conftest import HEALTH, create, only_stage, orchestrate, settle


def test_it_creates_a_server_group_and_waits_until_it_is_healthy(engine, app, deployer, localdcos):
    execution = orchestrate(
        engine,
        app,
        deployer,
        create(
            stack="prod",
            capacity={"desired": 2},
            healthChecks=HEALTH,
            serviceEndpoints=[{"port": 0, "name": "http"}],
        ),
    )
    stage = only_stage(execution)
    assert execution.status == Status.SUCCEEDED, stage.error
    assert stage.context["serverGroupName"] == "hello-prod-v000"
    assert stage.outputs["deploy.server.groups"] == {"dev": ["hello-prod-v000"]}
    marathon = localdcos.app("/dev/hello-prod-v000")
    assert marathon["tasksHealthy"] == 2
    assert marathon["labels"]["spinui.application"] == "hello"
    assert marathon["labels"]["spinui.cluster"] == "hello-prod"
    assert marathon["labels"]["spinui.sequence"] == "0"
    assert marathon["labels"]["spinui.operation"] == stage.context["operationId"]


def test_a_create_that_marathon_rejects_leaves_nothing_and_shows_its_message(
    engine, app, deployer, localdcos
):
    execution = orchestrate(
        engine,
        app,
        deployer,
        create(env={"DB_PASSWORD": {"secret": "db"}}, secrets={"db": {"source": "dev/db"}}),
    )
    stage = only_stage(execution)
    assert execution.status == Status.TERMINAL
    assert "Marathon refused /dev/hello-v000" in stage.error
    assert "Feature secrets is not enabled" in stage.error
    assert localdcos.request("GET", "/v2/apps/dev/hello-v000").status_code == 404
    assert not ReservedName.objects.exists()
    # The name is free again: the next create takes it.
    again = orchestrate(engine, app, deployer, create())
    assert only_stage(again).context["serverGroupName"] == "hello-v000"


def test_two_creates_in_one_cluster_get_different_sequence_numbers(
    engine, app, deployer, localdcos, dev
):
    # The first create has reserved its name and not yet reached Marathon when the second runs.
    reserved = sg.reserve_name(
        account="dev", region="dev", cluster=ServerGroupName("hello"), operation_id="first"
    )
    second = orchestrate(engine, app, deployer, create())
    assert str(reserved) == "/dev/hello-v000"
    assert only_stage(second).context["serverGroupName"] == "hello-v001"
    # The first, redelivered, keeps the name it reserved.
    again = sg.reserve_name(
        account="dev", region="dev", cluster=ServerGroupName("hello"), operation_id="first"
    )
    assert again == reserved


def test_concurrent_reservations_never_share_a_name(engine, app, deployer, localdcos, dev):
    names = [
        sg.reserve_name(
            account="dev", region="dev", cluster=ServerGroupName("hello"), operation_id=f"op{i}"
        ).name
        for i in range(3)
    ]
    assert names == ["hello-v000", "hello-v001", "hello-v002"]
    assert ReservedName.objects.count() == 3


def test_a_retried_create_finds_the_app_it_made_instead_of_making_another(
    engine, app, deployer, localdcos
):
    execution = orchestrate(engine, app, deployer, create(), wait=False)
    engine.run(until=engine.time)  # the stage created its app and is waiting for it
    stage = only_stage(execution)
    assert stage.context["marathonId"] == "/dev/hello-v000"
    # The same attempt delivered again, as if the first worker died before recording it.
    context = {k: v for k, v in stage.context.items() if k not in ("marathonId", "targets")}
    run = handlers._stage_run(stage, stage.execution, None)
    run.context = context
    outcome = stage_type_for("createServerGroup").run(run)
    assert outcome.status == Status.RUNNING
    assert outcome.context["foundExisting"] is True
    assert outcome.context["marathonId"] == "/dev/hello-v000"
    apps = localdcos.request("GET", "/v2/apps").json()["apps"]
    assert [a["id"] for a in apps] == ["/dev/hello-v000"]


def test_a_worker_killed_in_the_middle_of_a_create_leaves_exactly_one_app(
    engine, app, deployer, localdcos, monkeypatch, settings
):
    record = handlers._record
    killed = []

    def die_once(stage, lease, outcome):
        if not killed:
            killed.append(stage.id)
            raise KeyboardInterrupt("worker killed after Marathon answered")
        record(stage, lease, outcome)

    monkeypatch.setattr(handlers, "_record", die_once)
    execution = orchestrate(engine, app, deployer, create(), wait=False)
    with pytest.raises(KeyboardInterrupt):
        engine.run(until=engine.time)
    assert killed
    engine.advance(settings.SPINUI_ENGINE_LEASE_SECONDS + 1)  # the sweeper retries it
    execution = settle(engine, execution)
    assert execution.status == Status.SUCCEEDED
    assert only_stage(execution).context["foundExisting"] is True
    apps = localdcos.request("GET", "/v2/apps").json()["apps"]
    assert [a["id"] for a in apps] == ["/dev/hello-v000"]


def test_it_refuses_a_run_as_user_without_write_on_the_account(engine, app, alice, localdcos, dev):
    assign_perm("write_application", alice, app)
    execution = orchestrate(engine, app, alice, create())
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == "alice may not deploy into account dev (WRITE needed)"
    assert localdcos.request("GET", "/v2/apps").json()["apps"] == []


def test_it_refuses_a_run_as_user_without_write_on_the_application(
    engine, app, alice, localdcos, dev
):
    assign_perm("write_account", alice, dev.account)
    execution = orchestrate(engine, app, alice, create())
    assert only_stage(execution).error == "alice may not change hello (WRITE needed)"


def test_deck_and_clouddriver_spellings_make_the_same_app(engine, app, deployer, localdcos):
    deck = create(
        capacity={"min": 1, "max": 1, "desired": 1},
        docker={"image": {"registry": "docker.io", "repository": "spinui/hello", "tag": "1.0"}},
    )
    clouddriver = create(desiredCapacity=1)
    orchestrate(engine, app, deployer, deck)
    orchestrate(engine, app, deployer, clouddriver)
    first, second = localdcos.app("/dev/hello-v000"), localdcos.app("/dev/hello-v001")
    for key in ("instances", "container", "cpus", "mem"):
        assert first[key] == second[key]
    assert first["container"]["docker"]["image"] == "spinui/hello:1.0"


def test_a_create_that_never_gets_healthy_times_out_with_the_last_failure(
    engine, app, deployer, localdcos
):
    execution = orchestrate(
        engine,
        app,
        deployer,
        create(env={"CRASH_ON_START": "1"}, overrideTimeout=True, stageTimeoutMs=5000),
    )
    stage = only_stage(execution)
    assert execution.status == Status.TERMINAL
    assert stage.error.startswith("timed out after")
    assert "Command exited with status 1" in stage.context["waitingFor"]


def test_the_tasks_api_refuses_a_bad_create_with_json_paths(app, deployer, dev):
    from tests.spinui.api_support import api_client, send_json

    response = send_json(
        api_client(deployer),
        "POST",
        "/api/v1/applications/hello/tasks",
        {"job": [{"type": "createServerGroup", "region": "dev", "mem": 0, "stack": "a-b"}]},
    )
    assert response.status_code == 422
    paths = {detail["path"] for detail in response.json()["details"]}
    assert paths == {"/job/0/credentials", "/job/0/stack", "/job/0/mem", "/job/0/docker/image"}


def test_two_creates_racing_for_a_name_in_threads_get_different_names(
    engine, app, deployer, localdcos, dev
):
    from threading import Barrier, Thread

    from django.db import connection

    barrier, names, errors = Barrier(2), {}, []

    def reserve(operation_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            names[operation_id] = sg.reserve_name(
                account="dev",
                region="dev",
                cluster=ServerGroupName("hello"),
                operation_id=operation_id,
            ).name
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [Thread(target=reserve, args=(f"op-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors
    assert sorted(names.values()) == ["hello-v000", "hello-v001"]


def test_a_create_marathon_answers_409_shows_its_message_and_frees_the_name(
    engine, app, deployer, localdcos
):
    execution = orchestrate(engine, app, deployer, create(), wait=False)
    stage = only_stage(execution)
    # The name was reserved, then someone made an app of that id outside spinui.
    sg.reserve_name(
        account="dev", region="dev", cluster=ServerGroupName("hello"), operation_id=str(stage.id)
    )
    localdcos.create({"id": "/dev/hello-v000"})
    execution = settle(engine, execution)
    stage.refresh_from_db()
    assert execution.status == Status.TERMINAL
    assert stage.error == (
        "Marathon refused /dev/hello-v000: An app with id [/dev/hello-v000] already exists."
    )
    assert not ReservedName.objects.exists()
    assert "spinui.operation" not in localdcos.app("/dev/hello-v000").get("labels", {})
