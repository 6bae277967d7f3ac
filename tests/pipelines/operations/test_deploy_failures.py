"""A deploy that never gets up: the timeout stops Marathon's deployment and says why; the
server group stays unless the stage rolls back on failure; a cancel stops it too."""

import pytest

from pipelines import services
from pipelines.status import Status
from tests.pipelines.operations.conftest import orchestrate, settle
from tests.pipelines.operations.test_deploy import cluster, deploy


@pytest.fixture(autouse=True)
def quick_deploys(settings) -> None:
    settings.SPINUI_DEPLOY_POLL_SECONDS = 1


CRASHING = cluster(env={"CRASH_ON_START": "1"})


def test_a_timeout_stops_the_deployment_and_fails_with_the_last_task_failure(
    engine, app, deployer, localdcos
):
    execution = orchestrate(
        engine, app, deployer, deploy(CRASHING, overrideTimeout=True, stageTimeoutMs=8000)
    )
    stage = execution.stages.get()
    assert execution.status == Status.TERMINAL
    assert stage.error.startswith("timed out after")
    assert ": hello-v000: 0 of 1 tasks running (last task failure: " in stage.error
    assert "Command exited with status 1" in stage.error
    left = localdcos.app("/dev/hello-v000")  # left for the pipeline to handle
    assert left["deployments"] == []
    assert left["instances"] == 1
    assert not stage.children.exists()


def test_with_rollback_on_failure_the_stage_destroys_what_it_created(
    engine, app, deployer, localdcos
):
    execution = orchestrate(
        engine,
        app,
        deployer,
        deploy(
            CRASHING,
            overrideTimeout=True,
            stageTimeoutMs=8000,
            rollback={"onFailure": True},
        ),
    )
    stage = execution.stages.get(parent=None)
    assert execution.status == Status.TERMINAL
    assert stage.status == Status.TERMINAL
    assert "last task failure" in stage.error
    rollback = stage.children.get()
    assert (rollback.type, rollback.name, rollback.status) == (
        "destroyServerGroup",
        "Roll back hello-v000 in dev",
        Status.SUCCEEDED,
    )
    assert localdcos.request("GET", "/v2/apps/dev/hello-v000").status_code == 404


def test_a_deploy_that_lets_the_pipeline_go_on_still_rolls_back(engine, app, deployer, localdcos):
    execution = orchestrate(
        engine,
        app,
        deployer,
        deploy(
            CRASHING,
            overrideTimeout=True,
            stageTimeoutMs=8000,
            rollback={"onFailure": True},
            failPipeline=False,
            continuePipeline=True,
        ),
    )
    stage = execution.stages.get(parent=None)
    assert stage.status == Status.FAILED_CONTINUE
    assert stage.children.get().status == Status.SUCCEEDED
    assert localdcos.request("GET", "/v2/apps/dev/hello-v000").status_code == 404


def test_cancelling_the_execution_stops_the_deployment(engine, app, deployer, localdcos):
    execution = orchestrate(engine, app, deployer, deploy(CRASHING), wait=False)
    engine.run(until=engine.time)  # created, and Marathon is trying to start it
    assert localdcos.app("/dev/hello-v000")["deployments"] != []
    services.execution_cancel(execution=execution, user=deployer, reason="wrong version")
    execution = settle(engine, execution)
    assert execution.status == Status.CANCELED
    assert localdcos.app("/dev/hello-v000")["deployments"] == []
