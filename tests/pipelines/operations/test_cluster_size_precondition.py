from pipelines.status import Status
from tests.pipelines.operations.conftest import create, only_stage, orchestrate
from tests.pipelines.operations.test_server_group_operations import named


def cluster_size(**context) -> dict:
    return {
        "type": "checkPreconditions",
        "preconditions": [
            {
                "type": "clusterSize",
                "context": {
                    "credentials": "dev",
                    "regions": ["dev"],
                    "cluster": "hello-web",
                    **context,
                },
            }
        ],
    }


def test_it_passes_when_the_cluster_has_the_expected_number_of_server_groups(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, create(stack="web"))
    execution = orchestrate(
        engine,
        app,
        deployer,
        cluster_size(expected=2),
        cluster_size(expected=1, comparison=">"),
        cluster_size(expected=2, comparison="<="),
        cluster_size(expected=0, cluster="hello-api"),
    )
    assert execution.status == Status.SUCCEEDED, [s.error for s in execution.stages.all()]


def test_it_fails_naming_the_cluster_the_region_and_the_count(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, create(stack="web"))
    execution = orchestrate(engine, app, deployer, cluster_size(expected=1))
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == (
        "precondition 1 (clusterSize) failed: cluster hello-web in dev has 2 server groups, "
        "expected == 1 (hello-web-v001, hello-web-v000)"
    )


def test_only_enabled_server_groups_count_when_asked(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v000"))
    passed = orchestrate(
        engine, app, deployer, cluster_size(expected=1, onlyEnabledServerGroups=True)
    )
    assert passed.status == Status.SUCCEEDED, only_stage(passed).error
    failed = orchestrate(
        engine, app, deployer, cluster_size(expected=2, onlyEnabledServerGroups=True)
    )
    assert only_stage(failed).error.endswith(
        "cluster hello-web in dev has 1 enabled server groups, expected == 2 (hello-web-v001)"
    )
