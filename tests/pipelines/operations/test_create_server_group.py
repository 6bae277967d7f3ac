from pipelines.status import Status
from tests.pipelines.operations.conftest import HEALTH, create, only_stage, orchestrate


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
