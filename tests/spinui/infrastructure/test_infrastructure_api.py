"""The cache through the JSON API, in Gate's shapes."""

from spinui import infrastructure
from spinui.models import Instance
from spinui.permissions import READ
from tests.spinui.api_support import api_client

from .conftest import cached, marathon_app, region_of


def test_clusters_and_server_groups_of_an_application(admin, hello, localdcos):
    localdcos.create({"id": "/dev/hello-prod-v001", "instances": 2})
    localdcos.create({"id": "/dev/web/hello-v000", "instances": 0})
    localdcos.create({"id": "/dev/other-v000", "instances": 0})
    localdcos.running("/dev/hello-prod-v001", 2)
    infrastructure.region_refresh(region=region_of(localdcos))
    client = api_client(admin)

    clusters = client.get("/api/v1/applications/hello/clusters")
    server_groups = client.get("/api/v1/applications/hello/serverGroups")

    assert clusters.json() == {"dev": ["hello", "hello-prod"]}
    by_name = {sg["name"]: sg for sg in server_groups.json()}
    assert set(by_name) == {"hello-prod-v001", "hello-v000"}
    prod = by_name["hello-prod-v001"]
    assert prod["cloudProvider"] == "dcos"
    assert (prod["account"], prod["region"], prod["cluster"]) == ("dev", "dev", "hello-prod")
    assert prod["instanceCounts"] == {
        "total": 2,
        "up": 2,
        "down": 0,
        "starting": 0,
        "unknown": 0,
        "outOfService": 0,
    }
    assert prod["capacity"] == {"min": 2, "max": 2, "desired": 2}
    assert not prod["isDisabled"] and by_name["hello-v000"]["isDisabled"]
    assert by_name["hello-v000"]["region"] == "dev_web"


def test_one_server_group_and_one_instance(admin, hello, localdcos):
    localdcos.create(
        {"id": "/dev/hello-v003", "instances": 1, "env": {"API_KEY": "abc-123", "A": "b"}}
    )
    [task] = localdcos.running("/dev/hello-v003", 1)["tasks"]
    infrastructure.region_refresh(region=region_of(localdcos))
    client = api_client(admin)

    server_group = client.get("/api/v1/serverGroups/dev/dev/hello-v003").json()
    instance = client.get(f"/api/v1/instances/dev/dev/{task['id']}").json()

    assert server_group["definition"]["env"] == {"API_KEY": infrastructure.HIDDEN, "A": "b"}
    assert "abc-123" not in str(server_group)
    assert [i["name"] for i in server_group["instances"]] == [task["id"]]
    assert instance["serverGroup"] == "hello-v003"
    assert instance["healthState"] == "Up"
    assert instance["state"] == "TASK_RUNNING"
    assert (instance["host"], instance["ports"]) == (task["host"], task["ports"])
    assert instance["zone"] == "dev"
    assert instance["launchTime"] > 0


def test_what_the_user_cannot_read_is_not_found(make_user, hello):
    region = region_of(None, url="http://east.invalid")
    cached(region, [marathon_app("/dev/hello-v000")])
    task_id = Instance.objects.get().task_id
    only_app = api_client(make_user("ann", {hello: [READ]}))
    only_account = api_client(make_user("bob", {region.account: [READ]}))

    assert only_app.get("/api/v1/applications/hello/clusters").json() == {}
    assert only_app.get("/api/v1/serverGroups/dev/east/hello-v000").status_code == 404
    assert only_app.get(f"/api/v1/instances/dev/east/{task_id}").status_code == 404
    assert only_account.get("/api/v1/applications/hello/serverGroups").status_code == 404
    assert only_account.get("/api/v1/serverGroups/dev/east/hello-v000").status_code == 404
    assert only_account.get(f"/api/v1/instances/dev/east/{task_id}").status_code == 404


def test_a_token_is_needed(hello):
    assert api_client().get("/api/v1/applications/hello/clusters").status_code == 401
