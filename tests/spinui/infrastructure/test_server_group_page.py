"""The server group page: capacity, image, resources, network, env, checks, instances."""

import pytest
from django.urls import reverse

from spinui import infrastructure
from spinui.models import ServerGroup
from spinui.permissions import READ

from .conftest import cached, marathon_app, region_of


def page_url(name: str = "hello-prod-v001", region: str = "dev") -> str:
    return reverse("server_group_detail", args=["hello", "dev", region, name])


def test_it_shows_a_live_server_group_read_from_localdcos(client, admin, hello, localdcos):
    localdcos.create(
        {
            "id": "/dev/hello-prod-v001",
            "instances": 2,
            "env": {"GREETING": "hi", "DB_PASSWORD": "hunter2-secret"},
            "labels": {"team": "web"},
            "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"}}],
        }
    )
    app = localdcos.running("/dev/hello-prod-v001", 2)
    infrastructure.region_refresh(region=region_of(localdcos))
    client.force_login(admin)

    response = client.get(page_url())

    page = response.content.decode()
    assert response.status_code == 200
    for task in app["tasks"]:
        assert task["id"] in page
        assert f'href="http://{task["host"]}:{task["ports"][0]}/"' in page
    assert "GREETING" in page and "<code>hi</code>" in page
    assert "DB_PASSWORD" in page and "hunter2-secret" not in page
    assert "team" in page and "web" in page
    assert "COMMAND" in page
    assert "/dev/hello-prod-v001" in page


def test_a_deployment_and_the_last_task_failure_are_shown(client, admin, hello):
    region = region_of(None, url="http://east.invalid")
    failure = {
        "state": "TASK_FAILED",
        "message": "Command exited with status 1",
        "host": "agent-3",
        "timestamp": "2026-11-26T10:00:00.000Z",
    }
    cached(
        region,
        [
            marathon_app(
                "/dev/hello-prod-v001", deployments=[{"id": "dep-42"}], lastTaskFailure=failure
            )
        ],
    )
    client.force_login(admin)

    page = client.get(page_url()).content.decode()

    assert "Deployment in progress" in page and "dep-42" in page
    assert "Command exited with status 1" in page and "agent-3" in page


def test_polling_a_destroyed_server_group_stops(client, admin, hello):
    region = region_of(None, url="http://east.invalid")
    cached(region, [marathon_app("/dev/hello-prod-v001")])
    client.force_login(admin)
    assert client.get(page_url(), headers={"HX-Request": "true"}).status_code == 200

    ServerGroup.objects.all().delete()
    response = client.get(page_url(), headers={"HX-Request": "true"})

    assert response.status_code == 286
    assert "no longer exists" in response.content.decode()


def test_polling_an_unchanged_server_group_gets_304(client, admin, hello):
    region = region_of(None, url="http://east.invalid")
    cached(region, [marathon_app("/dev/hello-prod-v001")])
    client.force_login(admin)
    etag = client.get(page_url())["ETag"]

    response = client.get(page_url(), headers={"HX-Request": "true", "If-None-Match": etag})

    assert response.status_code == 304


@pytest.mark.parametrize("grants", [{"hello": [READ]}, {"dev": [READ]}])
def test_it_needs_read_on_both_the_application_and_the_account(client, make_user, hello, grants):
    region = region_of(None, url="http://east.invalid")
    cached(region, [marathon_app("/dev/hello-prod-v001")])
    objects = {"hello": hello, "dev": region.account}
    client.force_login(make_user("ann", {objects[k]: v for k, v in grants.items()}))

    assert client.get(page_url()).status_code == 404
