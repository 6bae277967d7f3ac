"""Save-time checks of the cluster stages, findImage and clusterSize, with JSON paths."""

import pytest

from pipelines import services
from pipelines.config import InvalidConfig
from pipelines.stages import stage_type_for


def refused(app, user, *stages: dict) -> dict[str, str]:
    with pytest.raises(InvalidConfig) as error:
        services.orchestration_start(
            application=app, description="bad", user=user, stages=list(stages)
        )
    return {e.path: e.message for e in error.value.errors}


CLUSTER_STAGES = ("shrinkCluster", "disableCluster", "scaleDownCluster", "rollbackCluster")


@pytest.mark.parametrize("type_", (*CLUSTER_STAGES, "findImage", "findImageFromCluster"))
def test_missing_account_regions_and_cluster_are_named(app, deployer, dev, type_):
    assert refused(app, deployer, {"type": type_}) == {
        "/job/0/credentials": "name the account",
        "/job/0/regions": "give at least one region",
        "/job/0/cluster": "name the cluster, e.g. hello-prod",
    }


@pytest.mark.parametrize("type_", (*CLUSTER_STAGES, "findImage"))
def test_an_unknown_account_or_region_and_a_bad_cluster_name_are_named(app, deployer, dev, type_):
    errors = refused(
        app,
        deployer,
        {"type": type_, "credentials": "dev", "regions": ["dev", "prod"], "cluster": "hello-v001"},
        {"type": type_, "account": "nope", "region": "dev", "cluster": "hello"},
    )
    assert errors == {
        "/job/0/regions/1": "account 'dev' has no region 'prod'",
        "/job/0/cluster": "'hello-v001' is not a cluster name: <application>[-<stack>[-<detail>]]",
        "/job/1/account": "no account 'nope'",
    }


def test_bad_numbers_and_an_unknown_strategy_are_named(app, deployer, dev):
    where = {"credentials": "dev", "regions": ["dev"], "cluster": "hello-web"}
    errors = refused(
        app,
        deployer,
        {"type": "shrinkCluster", "shrinkToSize": -1, **where},
        {"type": "disableCluster", "remainingEnabledServerGroups": "two", **where},
        {"type": "scaleDownCluster", "remainingFullSizeServerGroups": 1.5, **where},
        {"type": "rollbackCluster", "targetHealthyRollbackPercentage": 150, **where},
        {"type": "findImage", "selectionStrategy": "BIGGEST", **where},
    )
    assert errors == {
        "/job/0/shrinkToSize": "give a whole number of at least 0, not -1",
        "/job/1/remainingEnabledServerGroups": "give a whole number of at least 0, not 'two'",
        "/job/2/remainingFullSizeServerGroups": "give a whole number of at least 0, not 1.5",
        "/job/3/targetHealthyRollbackPercentage": "give a percentage, 1 to 100",
        "/job/4/selectionStrategy": "one of NEWEST, LARGEST, OLDEST, FAIL",
    }


def test_a_cluster_size_precondition_is_checked_with_paths(app, deployer, dev):
    errors = refused(
        app,
        deployer,
        {
            "type": "checkPreconditions",
            "preconditions": [
                {"type": "clusterSize", "context": {"credentials": "dev", "expected": "x"}},
                {
                    "type": "clusterSize",
                    "context": {
                        "credentials": "dev",
                        "regions": ["qa"],
                        "cluster": "hello",
                        "comparison": "!=",
                    },
                },
            ],
        },
    )
    where = "/job/0/preconditions"
    assert errors == {
        f"{where}/0/context/regions": "give at least one region",
        f"{where}/0/context/cluster": "name the cluster, e.g. hello-prod",
        f"{where}/0/context/expected": "give a whole number of at least 0, not 'x'",
        f"{where}/1/context/regions/0": "account 'dev' has no region 'qa'",
        f"{where}/1/context/comparison": "one of == < <= > >=",
    }


def test_expressions_are_left_for_the_stage_to_check_when_it_starts(app, deployer, dev):
    config = {
        "credentials": "dev",
        "regions": "${parameters.regions}",
        "cluster": "${parameters.cluster}",
        "shrinkToSize": "${parameters.keep}",
    }
    assert stage_type_for("shrinkCluster").validate(config, "") == []


@pytest.mark.parametrize(
    ("type_", "label"),
    [
        ("shrinkCluster", "Shrink Cluster"),
        ("disableCluster", "Disable Cluster"),
        ("scaleDownCluster", "Scale Down Cluster"),
        ("rollbackCluster", "Rollback Cluster"),
        ("findImage", "Find Image from Cluster"),
        ("findImageFromCluster", "Find Image from Cluster"),
    ],
)
def test_each_stage_is_labelled_as_deck_names_it_with_its_fields(type_, label):
    stage_type = stage_type_for(type_)
    assert stage_type.label == label
    keys = [field.key for field in stage_type.fields]
    assert keys[:3] == ["credentials", "regions", "cluster"]
