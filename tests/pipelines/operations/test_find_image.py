import pytest
from guardian.shortcuts import assign_perm

from pipelines.stages.find_image import image_parts
from pipelines.status import Status
from tests.pipelines.operations.conftest import create, only_stage, orchestrate
from tests.pipelines.operations.test_server_group_operations import named


def find(**fields) -> dict:
    return {
        "type": "findImage",
        "credentials": "dev",
        "regions": ["dev"],
        "cluster": "hello-web",
        **fields,
    }


def hello(tag: str, **fields) -> dict:
    return create(stack="web", docker={"image": {"imageId": f"spinui/hello:{tag}"}}, **fields)


def image_found(execution, ref_id: str = "0") -> str:
    stage = execution.stages.get(ref_id=ref_id)
    assert stage.status == Status.SUCCEEDED, stage.error
    return stage.outputs["deploymentDetails"][0]["imageId"]


@pytest.fixture
def three_versions(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, hello("1.0", capacity={"desired": 2}))
    orchestrate(engine, app, deployer, hello("1.1"))
    orchestrate(engine, app, deployer, hello("1.2"))


def test_each_selection_strategy_picks_its_server_group(engine, app, deployer, three_versions):
    execution = orchestrate(
        engine,
        app,
        deployer,
        find(),
        find(selectionStrategy="NEWEST"),
        find(selectionStrategy="OLDEST"),
        find(selectionStrategy="LARGEST"),
    )
    found = [image_found(execution, ref_id) for ref_id in ("0", "1", "2", "3")]
    assert found == ["spinui/hello:1.2", "spinui/hello:1.2", "spinui/hello:1.0", "spinui/hello:1.0"]


def test_the_output_names_the_image_and_where_it_was_found(engine, app, deployer, three_versions):
    execution = orchestrate(engine, app, deployer, find(), wait=True)
    stage = only_stage(execution)
    detail = {
        "refId": "0",
        "account": "dev",
        "region": "dev",
        "cloudProvider": "dcos",
        "cluster": "hello-web",
        "serverGroup": "hello-web-v002",
        "sourceServerGroup": "hello-web-v002",
        "imageId": "spinui/hello:1.2",
        "ami": "spinui/hello:1.2",
        "imageName": "spinui/hello:1.2",
        "registry": "docker.io",
        "repository": "spinui/hello",
        "tag": "1.2",
    }
    assert stage.outputs == {"deploymentDetails": [detail], "amiDetails": [detail]}
    assert stage.context["deploymentDetails"] == [detail]


def test_only_enabled_skips_disabled_server_groups_unless_turned_off(
    engine, app, deployer, three_versions
):
    orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v002"))
    execution = orchestrate(engine, app, deployer, find(), find(onlyEnabled=False))
    assert image_found(execution, "0") == "spinui/hello:1.1"
    assert image_found(execution, "1") == "spinui/hello:1.2"


def test_the_fail_strategy_fails_when_more_than_one_server_group_qualifies(
    engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, hello("1.0"))
    orchestrate(engine, app, deployer, hello("1.1"))
    failed = orchestrate(engine, app, deployer, find(selectionStrategy="FAIL"))
    assert failed.status == Status.TERMINAL
    assert only_stage(failed).error == (
        "selection strategy FAIL: cluster hello-web in dev/dev has 2 server groups to choose "
        "from (hello-web-v001, hello-web-v000)"
    )
    orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v000"))
    one = orchestrate(engine, app, deployer, find(selectionStrategy="FAIL"))
    assert image_found(one) == "spinui/hello:1.1"


def test_nothing_found_fails_naming_the_cluster_and_region(engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, hello("1.0"))
    orchestrate(engine, app, deployer, named("disableServerGroup", "hello-web-v000"))
    execution = orchestrate(engine, app, deployer, find(), find(cluster="hello-api"))
    assert execution.status == Status.TERMINAL
    assert only_stage(execution).error == (
        "cluster hello-web in dev/dev has no enabled server group to take the image of"
    )
    other = orchestrate(engine, app, deployer, find(cluster="hello-api", onlyEnabled=False))
    assert only_stage(other).error == (
        "cluster hello-api in dev/dev has no server group to take the image of"
    )


def test_a_registry_image_is_split_into_registry_repository_and_tag(
    engine, app, deployer, localdcos
):
    # Not started (0 instances), so no registry is needed to hold the image.
    localdcos.create(
        {
            "id": "/dev/hello-reg-v000",
            "instances": 0,
            "container": {"type": "DOCKER", "docker": {"image": "127.0.0.1:5000/team/app:2"}},
        }
    )
    execution = orchestrate(
        engine,
        app,
        deployer,
        find(cluster="hello-reg", onlyEnabled=False, selectionStrategy="FAIL"),
    )
    detail = only_stage(execution).outputs["deploymentDetails"][0]
    assert (detail["imageId"], detail["registry"], detail["repository"], detail["tag"]) == (
        "127.0.0.1:5000/team/app:2",
        "127.0.0.1:5000",
        "team/app",
        "2",
    )


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("spinui/hello:1.1", ("docker.io", "spinui/hello", "1.1")),
        ("busybox", ("docker.io", "busybox", "latest")),
        ("localhost/app:3", ("localhost", "app", "3")),
        ("registry.example.com/a/b/c", ("registry.example.com", "a/b/c", "latest")),
        ("127.0.0.1:5000/app@sha256:abc", ("127.0.0.1:5000", "app", "")),
    ],
)
def test_image_references_split_the_way_docker_reads_them(image, parts):
    assert image_parts(image) == parts


def test_read_on_the_application_and_the_account_is_enough(engine, app, alice, deployer, localdcos):
    from guardian.shortcuts import remove_perm

    orchestrate(engine, app, deployer, hello("1.0"))
    remove_perm("write_application", alice, app)
    remove_perm("write_account", alice, deployer.region.account)
    assign_perm("read_application", alice, app)
    refused = orchestrate(engine, app, alice, find())
    assert only_stage(refused).error == "alice may not read account dev (READ needed)"
    assign_perm("read_account", alice, deployer.region.account)
    assert image_found(orchestrate(engine, app, alice, find())) == "spinui/hello:1.0"


def test_it_may_look_at_another_applications_cluster_it_can_read(
    engine, app, alice, deployer, localdcos
):
    from guardian.shortcuts import remove_perm

    from spinui.models import Application

    other = Application.objects.create(name="other", email="other@example.com")
    assign_perm("write_application", alice, other)
    orchestrate(engine, other, deployer, hello("2.0"))
    execution = orchestrate(engine, app, alice, find(cluster="other-web"))
    assert image_found(execution) == "spinui/hello:2.0"
    remove_perm("write_application", alice, other)
    refused = orchestrate(engine, app, alice, find(cluster="other-web"))
    assert only_stage(refused).error == "alice may not see other (READ needed)"
