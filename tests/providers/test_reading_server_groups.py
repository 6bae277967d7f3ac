"""Reading an account's server groups from one root call, against localdcos."""

import pytest

from providers.dcos.marathon import MarathonClient
from providers.dcos.model import UP


def test_it_reads_only_the_apps_under_the_account_in_every_group(localdcos):
    for app_id in (
        "/dev/hello-v000",
        "/dev/hello-prod-v003",
        "/dev/web/blue/hello-prod-canary-v001",
        "/devtools/hello-v000",  # a substring match of "dev" that is another account
        "/prod/hello-v000",
        "/hello-v000",
    ):
        localdcos.create({"id": app_id, "instances": 1})
    marathon = MarathonClient(localdcos.config())

    found = {(sg.region, sg.name): sg for sg in marathon.server_groups("dev")}

    assert set(found) == {
        ("dev", "hello-v000"),
        ("dev", "hello-prod-v003"),
        ("dev_web_blue", "hello-prod-canary-v001"),
    }
    canary = found[("dev_web_blue", "hello-prod-canary-v001")]
    assert (canary.application, canary.stack, canary.detail, canary.sequence) == (
        "hello",
        "prod",
        "canary",
        1,
    )
    assert canary.cluster == "hello-prod-canary"
    assert canary.app_id == "/dev/web/blue/hello-prod-canary-v001"
    assert [sg.account for sg in marathon.server_groups("prod")] == ["prod"]


def test_it_maps_tasks_to_instances_with_their_health(localdcos):
    localdcos.create({"id": "/dev/hello-v000", "instances": 2})
    localdcos.running("/dev/hello-v000", 2)

    [server_group] = MarathonClient(localdcos.config()).server_groups("dev")

    assert server_group.instances == 2
    assert server_group.tasks_running == 2
    assert not server_group.deploying and not server_group.disabled
    assert {i.health for i in server_group.tasks} == {UP}
    assert all(i.host and i.ports and i.started_at for i in server_group.tasks)
    assert server_group.last_config_change_at is not None


def test_a_server_group_scaled_to_zero_reads_as_disabled(localdcos):
    localdcos.create({"id": "/dev/hello-v000", "instances": 0})

    [server_group] = MarathonClient(localdcos.config()).server_groups("dev")

    assert server_group.disabled
    assert server_group.tasks == ()


def test_one_app_is_read_alone_and_a_missing_one_is_none(localdcos):
    localdcos.create({"id": "/dev/hello-v000", "instances": 1})
    marathon = MarathonClient(localdcos.config())

    assert marathon.server_group("/dev/hello-v000").name == "hello-v000"
    assert marathon.server_group("/dev/hello-v001") is None


@pytest.mark.parametrize("marathon_path", ["/service/marathon", "/marathon", ""])
def test_the_marathon_path_of_the_region_is_used(localdcos, marathon_path):
    localdcos.create({"id": "/dev/hello-v000", "instances": 0})
    marathon = MarathonClient(localdcos.config(marathon_path=marathon_path))

    assert [sg.name for sg in marathon.server_groups("dev")] == ["hello-v000"]
    assert marathon.info().version.startswith("1.10")
