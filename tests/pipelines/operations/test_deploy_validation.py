"""A deploy stage is checked when its pipeline is saved, each error at its JSON path."""

import pytest

from pipelines.config import InvalidConfig
from pipelines.models import Pipeline
from spinui.models import Account, Region
from tests.pipelines.operations.test_deploy import cluster, deploy


@pytest.fixture
def dev(transactional_db) -> Region:
    """The dev account and region; saving a pipeline asks nothing of DC/OS itself."""
    account = Account.objects.create(name="dev", environment="dev")
    return Region.objects.create(account=account, name="dev", url="http://127.0.0.1:9")


def refused(run_pipeline, stage: dict) -> dict[str, str]:
    with pytest.raises(InvalidConfig) as caught:
        run_pipeline.save([{"refId": "1", **stage}])
    assert not Pipeline.objects.exists()
    return {error.path: error.message for error in caught.value.errors}


def test_a_deploy_without_clusters_is_refused(run_pipeline, dev):
    assert refused(run_pipeline, deploy()) == {
        "/stages/0/clusters": "give at least one cluster to deploy"
    }


def test_each_entry_is_refused_at_its_own_path(run_pipeline, dev):
    errors = refused(
        run_pipeline,
        deploy(
            cluster(account="nope"),
            cluster(region="moon"),
            cluster(stack="a-b", mem=0),
            cluster(strategy="redblack"),
            cluster(strategy="blue-green"),
            cluster(docker={"image": {"fromTrigger": True}}),
            cluster(region="${parameters.region}", stack="a-b"),  # checked at start
        ),
    )
    assert errors == {
        "/stages/0/clusters/0/account": "no account 'nope'",
        "/stages/0/clusters/1/region": "account 'dev' has no region 'moon'",
        "/stages/0/clusters/2/stack": errors["/stages/0/clusters/2/stack"],
        "/stages/0/clusters/2/mem": "must be at least 1",
        "/stages/0/clusters/3/strategy": (
            "redblack comes with load balancers, which spinui does not have yet; "
            "use none or highlander"
        ),
        "/stages/0/clusters/4/strategy": "unknown strategy 'blue-green': none or highlander",
        "/stages/0/clusters/5/docker/image/repository": "name the repository of the trigger",
    }
    assert "a-b" in errors["/stages/0/clusters/2/stack"]


def test_an_entry_without_account_region_or_image_names_each(run_pipeline, dev):
    errors = refused(run_pipeline, deploy({"capacity": {"desired": 1}}))
    assert errors == {
        "/stages/0/clusters/0/account": "name the account",
        "/stages/0/clusters/0/region": "name the region",
        "/stages/0/clusters/0/docker/image": "give an image, or a command to run",
    }


def test_a_good_deploy_with_its_image_from_the_trigger_is_saved(run_pipeline, dev):
    image = {"fromTrigger": True, "repository": "spinui/hello"}
    stage = deploy(cluster(docker={"image": image}, strategy="highlander"))
    pipeline = run_pipeline.save([{"refId": "1", **stage}])
    assert pipeline.config["stages"][0]["clusters"][0]["strategy"] == "highlander"
