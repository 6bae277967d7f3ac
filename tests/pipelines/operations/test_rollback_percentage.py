"""rollbackCluster's targetHealthyRollbackPercentage: enough of the previous server group
healthy lets the rollback go on to disable the current one, which frees room for the rest."""

import pytest

from pipelines.status import Status
from tests.pipelines.operations.conftest import create, orchestrate
from tests.pipelines.operations.test_cluster_stages_disable_and_scale_down import cluster_stage
from tests.pipelines.operations.test_server_group_operations import named, running


@pytest.fixture
def localdcos(start_localdcos):
    """A DC/OS cluster with room for three tasks."""
    return start_localdcos("--max-tasks", "3")


def test_half_of_the_previous_server_group_up_is_enough_to_disable_the_current_one(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web", capacity={"desired": 2}))
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, cluster_stage("disableCluster"))  # v000: 0, remembers 2
    orchestrate(
        engine, app, deployer, named("resizeServerGroup", "hello-web-v001", capacity={"desired": 2})
    )
    # Enabling v000 at 2 leaves room for one of its tasks until v001 is disabled.
    execution = orchestrate(
        engine, app, deployer, cluster_stage("rollbackCluster", targetHealthyRollbackPercentage=50)
    )
    steps = execution.stages.exclude(ref_id="0").order_by("ref_id")
    assert [(s.name, s.status) for s in steps] == [
        ("Enable hello-web-v000 in dev", Status.SUCCEEDED),
        ("Disable hello-web-v001 in dev", Status.SUCCEEDED),
    ]
    assert execution.status == Status.SUCCEEDED
    assert localdcos.running("/dev/hello-web-v000", 2)["instances"] == 2
    assert running(localdcos, "/dev/hello-web-v001") == []
