"""Highlander: once the new server group is up, the older ones of its cluster and region go."""

import pytest

from pipelines.status import Status
from tests.pipelines.operations.conftest import orchestrate
from tests.pipelines.operations.test_deploy import apps, cluster, deploy


@pytest.fixture(autouse=True)
def quick_deploys(settings) -> None:
    settings.SPINUI_DEPLOY_POLL_SECONDS = 1


def test_it_destroys_older_server_groups_once_the_new_one_is_healthy(
    engine, app, deployer, localdcos
):
    for _ in range(2):
        orchestrate(engine, app, deployer, deploy(cluster()))
    orchestrate(engine, app, deployer, deploy(cluster(stack="other")))  # another cluster
    newer = {"image": {"imageId": "spinui/hello:1.1"}}
    execution = orchestrate(
        engine, app, deployer, deploy(cluster(strategy="highlander", docker=newer))
    )
    stage = execution.stages.get(parent=None)
    assert execution.status == Status.SUCCEEDED, stage.error
    shrink = stage.children.get()
    assert (shrink.type, shrink.name, shrink.status) == (
        "shrinkCluster",
        "Shrink cluster hello in dev",
        Status.SUCCEEDED,
    )
    assert shrink.context["shrinkToSize"] == 1
    assert shrink.context["allowDeleteActive"] is True
    assert sorted(apps(localdcos)) == ["/dev/hello-other-v000", "/dev/hello-v002"]
    assert localdcos.app("/dev/hello-v002")["container"]["docker"]["image"] == "spinui/hello:1.1"


def test_without_a_strategy_the_older_server_groups_stay(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, deploy(cluster()))
    execution = orchestrate(engine, app, deployer, deploy(cluster(strategy="")))
    assert execution.status == Status.SUCCEEDED
    assert not execution.stages.get().children.exists()
    assert sorted(apps(localdcos)) == ["/dev/hello-v000", "/dev/hello-v001"]
