"""Who may call what: each kind of user against each endpoint and method."""

import pytest
from django.test import Client

from spinui.models import Account, Application, Region
from spinui.permissions import EXECUTE, READ, WRITE
from tests.spinui.api_support import api_client, send_json

NEW_APPLICATION = {"name": "shop", "email": "shop@example.com"}
CHANGE = {"description": "changed"}

ENDPOINTS = [
    ("GET", "/api/v1/applications", None),
    ("POST", "/api/v1/applications", NEW_APPLICATION),
    ("GET", "/api/v1/applications/hello", None),
    ("PATCH", "/api/v1/applications/hello", CHANGE),
    ("DELETE", "/api/v1/applications/hello", None),
    ("GET", "/api/v1/credentials", None),
    ("GET", "/api/v1/openapi.json", None),
]
# One row per kind of user, one column per endpoint above.
EXPECTED = {
    "anonymous": (401, 401, 401, 401, 401, 401, 200),
    "no-grant": (200, 403, 404, 404, 404, 200, 200),
    "read": (200, 403, 200, 403, 403, 200, 200),
    "write": (200, 403, 200, 200, 204, 200, 200),
    "execute": (200, 403, 200, 403, 403, 200, 200),
    "may-create": (200, 201, 404, 404, 404, 200, 200),
    "superuser": (200, 201, 200, 200, 204, 200, 200),
}
GRANTS = {"read": [READ], "write": [WRITE], "execute": [EXECUTE]}


@pytest.fixture
def client_as(request, application, make_user):
    def make(kind: str) -> Client:
        if kind == "anonymous":
            return api_client()
        if kind == "superuser":
            return api_client(request.getfixturevalue("admin"))
        if kind == "may-create":
            return api_client(make_user("creator", can_create=True))
        return api_client(make_user(kind, {application: GRANTS.get(kind, [])}))

    return make


@pytest.mark.parametrize(
    ("kind", "method", "path", "body", "expected"),
    [
        pytest.param(kind, method, path, body, statuses[i], id=f"{kind}-{method}-{path}")
        for kind, statuses in EXPECTED.items()
        for i, (method, path, body) in enumerate(ENDPOINTS)
    ],
)
def test_each_user_gets_the_status_their_grants_allow(
    client_as, kind, method, path, body, expected
):
    client = client_as(kind)

    if body is None:
        response = getattr(client, method.lower())(path)
    else:
        response = send_json(client, method, path, body)

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) == {"error", "message", "details"}


@pytest.mark.parametrize(
    ("kind", "listed"),
    [
        ("no-grant", []),
        ("read", ["hello"]),
        ("write", ["hello"]),
        ("execute", ["hello"]),
        ("may-create", []),
        ("superuser", ["hello", "other"]),
    ],
)
def test_the_list_holds_exactly_the_applications_the_user_may_read(client_as, kind, listed):
    Application.objects.create(name="other", email="other@example.com")

    response = client_as(kind).get("/api/v1/applications")

    assert [app["name"] for app in response.json()] == listed


@pytest.mark.parametrize(
    ("levels", "listed"),
    [([], []), ([READ], ["dev"]), ([WRITE], ["dev"]), ([READ, WRITE], ["dev"])],
)
def test_credentials_hold_exactly_the_accounts_the_user_may_read(
    make_user, account, levels, listed
):
    hidden = Account.objects.create(name="prod", environment="prod")
    Region.objects.create(account=hidden, name="prod", url="http://127.0.0.1:18081")
    user = make_user("deployer", {account: levels})

    response = api_client(user).get("/api/v1/credentials")

    assert [credential["name"] for credential in response.json()] == listed


def test_a_superuser_sees_every_account(admin, account):
    Account.objects.create(name="prod", environment="prod")

    response = api_client(admin).get("/api/v1/credentials")

    assert [credential["name"] for credential in response.json()] == ["dev", "prod"]


def test_an_application_you_may_not_read_looks_exactly_like_a_missing_one(make_user, application):
    client = api_client(make_user("outsider"))

    hidden = client.get("/api/v1/applications/hello")
    missing = client.get("/api/v1/applications/nosuchapp")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"] == "not_found"
    assert hidden.json()["message"].replace("hello", "X") == (
        missing.json()["message"].replace("nosuchapp", "X")
    )


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_a_refused_write_changes_nothing(make_user, application, method):
    client = api_client(make_user("reader", {application: [READ]}))

    response = send_json(client, method, "/api/v1/applications/hello", CHANGE)

    assert response.status_code == 403
    assert "WRITE" in response.json()["message"]
    application.refresh_from_db()
    assert application.description == "Hi"


def test_object_grants_do_not_let_a_user_create_applications(make_user, application):
    client = api_client(make_user("writer", {application: [READ, WRITE, EXECUTE]}))

    response = send_json(client, "POST", "/api/v1/applications", NEW_APPLICATION)

    assert response.status_code == 403
    assert not Application.objects.filter(name="shop").exists()
