from pipelines.models import DisabledCapacity
from pipelines.status import Status
from tests.pipelines.operations.conftest import create, only_stage, orchestrate
from tests.pipelines.operations.test_cluster_stages_shrink import apps, three_server_groups
from tests.pipelines.operations.test_server_group_operations import named
from tests.pipelines.operations.test_traffic_guards import guard


def cluster_stage(type_: str, **fields) -> dict:
    return {
        "type": type_,
        "credentials": "dev",
        "regions": ["dev"],
        "cluster": "hello-web",
        **fields,
    }


def test_disable_cluster_disables_all_but_the_newest_and_remembers_their_capacity(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web", capacity={"desired": 2}))
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, create(stack="web"))
    execution = orchestrate(engine, app, deployer, cluster_stage("disableCluster"))
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    assert apps(localdcos) == {
        "/dev/hello-web-v000": 0,
        "/dev/hello-web-v001": 0,
        "/dev/hello-web-v002": 1,
    }
    remembered = dict(DisabledCapacity.objects.values_list("name", "instances"))
    assert remembered == {"hello-web-v000": 2, "hello-web-v001": 1}
    # Enable brings back what disableCluster remembered.
    enabled = orchestrate(engine, app, deployer, named("enableServerGroup", "hello-web-v000"))
    assert enabled.status == Status.SUCCEEDED, only_stage(enabled).error
    assert apps(localdcos)["/dev/hello-web-v000"] == 2


def test_disable_cluster_keeps_the_given_number_enabled_preferring_larger_ones(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web", capacity={"desired": 2}))
    orchestrate(engine, app, deployer, create(stack="web"))
    orchestrate(engine, app, deployer, create(stack="web"))
    execution = orchestrate(
        engine,
        app,
        deployer,
        cluster_stage("disableCluster", remainingEnabledServerGroups=2, preferLargerOverNewer=True),
    )
    assert execution.status == Status.SUCCEEDED, only_stage(execution).error
    assert apps(localdcos) == {
        "/dev/hello-web-v000": 2,
        "/dev/hello-web-v001": 0,
        "/dev/hello-web-v002": 1,
    }


def test_a_traffic_guard_refuses_disabling_the_whole_cluster(engine, app, deployer, localdcos):
    three_server_groups(engine, app, deployer)
    guard(app)
    execution = orchestrate(
        engine, app, deployer, cluster_stage("disableCluster", remainingEnabledServerGroups=0)
    )
    assert execution.status == Status.TERMINAL
    assert "refused: traffic guard dev/dev/web/- protects cluster hello-web" in (
        only_stage(execution).error
    )
    assert set(apps(localdcos).values()) == {1}
    assert not DisabledCapacity.objects.exists()


def test_scale_down_cluster_scales_active_server_groups_only_when_allowed(
    engine, app, deployer, localdcos
):
    three_server_groups(engine, app, deployer)
    # On DC/OS a disabled server group is already at 0: without allowScaleDownActive every
    # enabled one stays as it is.
    untouched = orchestrate(engine, app, deployer, cluster_stage("scaleDownCluster"))
    assert untouched.status == Status.SUCCEEDED, only_stage(untouched).error
    assert set(apps(localdcos).values()) == {1}
    assert only_stage(untouched).outputs["serverGroupNames"] == []

    scaled = orchestrate(
        engine, app, deployer, cluster_stage("scaleDownCluster", allowScaleDownActive=True)
    )
    assert scaled.status == Status.SUCCEEDED, only_stage(scaled).error
    assert apps(localdcos) == {
        "/dev/hello-web-v000": 0,
        "/dev/hello-web-v001": 0,
        "/dev/hello-web-v002": 1,
    }
    assert DisabledCapacity.objects.count() == 2


def test_a_traffic_guard_refuses_scaling_the_whole_cluster_down(engine, app, deployer, localdcos):
    three_server_groups(engine, app, deployer)
    guard(app)
    execution = orchestrate(
        engine,
        app,
        deployer,
        cluster_stage(
            "scaleDownCluster", remainingFullSizeServerGroups=0, allowScaleDownActive=True
        ),
    )
    assert execution.status == Status.TERMINAL
    assert "this would leave it with no Up instances (it has 3 now)" in only_stage(execution).error
    assert set(apps(localdcos).values()) == {1}


def test_a_cluster_with_no_server_groups_fails_naming_it(engine, app, deployer, localdcos):
    execution = orchestrate(engine, app, deployer, cluster_stage("disableCluster"))
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == "cluster hello-web has no server groups in dev/dev"
    shrink_to_nothing = cluster_stage("shrinkCluster", shrinkToSize=0, allowDeleteActive=True)
    assert orchestrate(engine, app, deployer, shrink_to_nothing).status == Status.SUCCEEDED


def test_a_cluster_of_another_application_is_refused(engine, app, deployer, localdcos):
    execution = orchestrate(engine, app, deployer, cluster_stage("disableCluster", cluster="other"))
    assert only_stage(execution).error == ("cluster other belongs to application other, not hello")
