from datetime import timedelta

import pytest
from django.contrib.auth.signals import user_login_failed
from django.test import Client
from django.utils import timezone

from spinui.models import ApiToken, Application
from tests.spinui.api_support import api_client, send_json, token_for


@pytest.fixture
def failed_logins():
    """The usernames of user_login_failed signals, which the audit log records."""
    seen: list[str] = []

    def receiver(sender, credentials, request=None, **kwargs):
        seen.append(credentials["username"])

    user_login_failed.connect(receiver)
    yield seen
    user_login_failed.disconnect(receiver)


def assert_refused(response, error: str) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="spinui"')
    body = response.json()
    assert body["error"] == error
    assert body["message"]
    assert body["details"] == []


def test_it_refuses_a_request_without_a_token(application):
    response = Client().get("/api/v1/applications")

    assert_refused(response, "unauthenticated")
    assert "create_api_token" in response.json()["message"]


@pytest.mark.parametrize(
    "header",
    ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Bearer two words", "Token spin_abc"],
)
def test_it_refuses_a_malformed_authorization_header(db, header):
    response = Client(headers={"Authorization": header}).get("/api/v1/applications")

    assert_refused(response, "invalid_token")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert "malformed" in response.json()["message"]


def test_it_refuses_an_unknown_token(admin):
    token_for(admin)
    forged = ApiToken.new_key()

    response = Client(headers={"Authorization": f"Bearer {forged}"}).get("/api/v1/applications")

    assert_refused(response, "invalid_token")
    assert "unknown" in response.json()["message"]


def test_it_refuses_an_expired_token(admin):
    key = token_for(admin, expires_at=timezone.now() - timedelta(seconds=1))

    response = Client(headers={"Authorization": f"Bearer {key}"}).get("/api/v1/applications")

    assert_refused(response, "invalid_token")
    assert "expired" in response.json()["message"]


def test_it_accepts_a_token_that_has_not_expired_yet(admin):
    key = token_for(admin, expires_at=timezone.now() + timedelta(minutes=5))

    response = Client(headers={"Authorization": f"Bearer {key}"}).get("/api/v1/applications")

    assert response.status_code == 200


def test_it_refuses_the_token_of_an_inactive_user(make_user):
    user = make_user("gone")
    client = api_client(user)
    user.is_active = False
    user.save()

    assert_refused(client.get("/api/v1/applications"), "invalid_token")


def test_the_scheme_name_is_case_insensitive(admin):
    key = token_for(admin)

    response = Client(headers={"Authorization": f"bearer {key}"}).get("/api/v1/applications")

    assert response.status_code == 200


def test_a_session_login_alone_does_not_authenticate(admin):
    client = Client()
    client.force_login(admin)

    assert_refused(client.get("/api/v1/applications"), "unauthenticated")


def test_a_token_needs_no_csrf_token(admin):
    client = api_client(admin, enforce_csrf_checks=True)

    response = send_json(
        client, "POST", "/api/v1/applications", {"name": "shop", "email": "a@example.com"}
    )

    assert response.status_code == 201


def test_a_token_belongs_to_its_user_not_to_a_logged_in_session(admin, make_user, application):
    client = api_client(make_user("nobody"))
    client.force_login(admin)

    assert client.get("/api/v1/applications").json() == []


def test_using_a_token_records_when(admin):
    key = token_for(admin)
    client = Client(headers={"Authorization": f"Bearer {key}"})

    client.get("/api/v1/applications")

    token = ApiToken.objects.get(key_hash=ApiToken.hash(key))
    assert timezone.now() - token.last_used_at < timedelta(seconds=10)


def test_last_used_is_written_at_most_once_a_minute(admin):
    key = token_for(admin)
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.update(last_used_at=recent)
    Application.objects.create(name="hello", email="a@example.com")
    client = Client(headers={"Authorization": f"Bearer {key}"})

    client.get("/api/v1/applications/hello")

    assert ApiToken.objects.get().last_used_at == recent


def test_a_refused_token_leaves_no_trace(admin):
    key = token_for(admin, expires_at=timezone.now() - timedelta(days=1))

    Client(headers={"Authorization": f"Bearer {key}"}).get("/api/v1/applications")

    assert ApiToken.objects.get().last_used_at is None


def test_a_refused_token_is_a_failed_login(admin, failed_logins):
    expired = token_for(admin, expires_at=timezone.now() - timedelta(days=1))

    for header in (f"Bearer {expired}", f"Bearer {ApiToken.new_key()}", "Basic eDp5"):
        Client(headers={"Authorization": header}).get("/api/v1/applications")

    assert failed_logins == ["admin", "", ""]


def test_a_request_without_a_token_is_no_failed_login(db, failed_logins):
    Client().get("/api/v1/applications")

    assert failed_logins == []


def test_no_token_appears_in_a_log_line(admin, caplog):
    expired = token_for(admin, expires_at=timezone.now() - timedelta(days=1))
    valid = token_for(admin)
    forged = ApiToken.new_key()
    caplog.set_level("DEBUG")

    for key in (expired, valid, forged):
        client = Client(headers={"Authorization": f"Bearer {key}"})
        client.get("/api/v1/applications")
        client.post("/api/v1/applications", "{", content_type="application/json")

    assert caplog.records
    for key in (expired, valid, forged):
        assert key not in caplog.text
        assert key[12:] not in caplog.text
