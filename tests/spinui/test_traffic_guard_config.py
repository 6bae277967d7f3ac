from django.urls import reverse

from spinui.models import Application
from tests.spinui.api_support import api_client, send_json

GUARD = {"account": "prod", "location": "*", "stack": "web", "detail": "", "enabled": True}


def test_guards_are_set_through_the_api_as_an_attribute(admin, application):
    response = send_json(
        api_client(admin), "PATCH", "/api/v1/applications/hello", {"trafficGuards": [GUARD]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["attributes"]["trafficGuards"] == [GUARD]
    assert Application.objects.get(name="hello").attributes["trafficGuards"] == [GUARD]


def test_a_malformed_guard_is_refused_with_json_paths(admin, application):
    response = send_json(
        api_client(admin),
        "PATCH",
        "/api/v1/applications/hello",
        {"trafficGuards": [{"account": "prod"}, "web"]},
    )
    assert response.status_code == 422
    paths = {detail["path"] for detail in response.json()["details"]}
    assert paths == {"/trafficGuards/0/location", "/trafficGuards/1"}
    assert "trafficGuards" not in Application.objects.get(name="hello").attributes


def test_the_config_page_edits_guards_one_per_line(client, admin, application):
    client.force_login(admin)
    url = reverse("application_edit", args=["hello"])
    response = client.post(
        url,
        {
            "email": "team@example.com",
            "description": "Hi",
            "traffic_guards": "prod/*/web/-\ndev/dev/*/* disabled\n",
        },
    )
    assert response.status_code == 302
    guards = Application.objects.get(name="hello").attributes["trafficGuards"]
    assert guards == [
        GUARD,
        {"account": "dev", "location": "dev", "stack": "*", "detail": "*", "enabled": False},
    ]
    page = client.get(url).content.decode()
    assert "prod/*/web/-\ndev/dev/*/* disabled" in page


def test_the_config_page_says_which_guard_line_is_wrong(client, admin, application):
    client.force_login(admin)
    response = client.post(
        reverse("application_edit", args=["hello"]),
        {"email": "team@example.com", "traffic_guards": "prod/*/web/-\nprod web"},
    )
    assert response.status_code == 200
    assert "Line 2: write account/region/stack/detail" in response.content.decode()
