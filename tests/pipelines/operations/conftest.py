"""Server-group operations: the deterministic engine driving a real localdcos.

The engine's clock is fake; Marathon's is real. `settle` alternates: deliver what is due,
give localdcos a moment, move the fake clock by one poll — bounded in real time."""

import time

import pytest
from django.contrib.auth.models import User
from guardian.shortcuts import assign_perm

from pipelines import services
from pipelines.models import Execution
from pipelines.status import COMPLETE
from spinui.models import Account, Application, Region
from tests.pipelines.engine.conftest import (  # noqa: F401 - shared fixtures
    alice,
    app,
    engine,
    run_pipeline,
)
from tests.providers.conftest import localdcos, start_localdcos, wait_until  # noqa: F401

HELLO = {"docker": {"image": {"imageId": "spinui/hello:1.0"}}, "cpus": 0.01, "mem": 16}
HEALTH = [
    {
        "protocol": "HTTP",
        "path": "/health",
        "portIndex": 0,
        "intervalSeconds": 1,
        "gracePeriodSeconds": 30,
        "timeoutSeconds": 2,
    }
]


@pytest.fixture(autouse=True)
def quick_operations(settings) -> None:
    settings.SPINUI_OPERATION_POLL_SECONDS = 1
    settings.SPINUI_DCOS_CONNECT_TIMEOUT = 1
    settings.SPINUI_DCOS_READ_TIMEOUT = 5
    settings.SPINUI_DCOS_RETRIES = 0


@pytest.fixture
def dev(localdcos, transactional_db) -> Region:  # noqa: F811
    account = Account.objects.create(name="dev", environment="dev")
    return Region.objects.create(account=account, name="dev", url=localdcos.url("dev"))


@pytest.fixture
def deployer(alice, app, dev) -> User:  # noqa: F811
    """alice, with WRITE on the application and on the account."""
    assign_perm("write_application", alice, app)
    assign_perm("write_account", alice, dev.account)
    alice.region = dev
    return alice


def settle(engine, execution: Execution, timeout: float = 60.0) -> Execution:  # noqa: F811
    """Run the engine until EXECUTION ends (or fail after TIMEOUT real seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        engine.run(until=engine.time)  # only what is due: a waiting stage polls forever
        execution.refresh_from_db()
        if execution.status in COMPLETE:
            return execution
        if time.monotonic() > deadline:
            stages = {
                s.ref_id: (s.status, s.context.get("waitingFor"), s.error)
                for s in execution.stages.all()
            }
            raise AssertionError(f"{execution.name} still {execution.status}: {stages}")
        time.sleep(0.1)
        engine.advance(1)


def orchestrate(engine, app: Application, user: User, *job: dict, wait: bool = True):  # noqa: F811
    """Start the operations as one orchestration (Gate's tasks) and run it to its end."""
    execution = services.orchestration_start(
        application=app, description="test", stages=list(job), user=user
    )
    return settle(engine, execution) if wait else execution


def create(**fields) -> dict:
    return {"type": "createServerGroup", "credentials": "dev", "region": "dev", **HELLO, **fields}


def only_stage(execution: Execution):
    return execution.stages.get(ref_id="0")
