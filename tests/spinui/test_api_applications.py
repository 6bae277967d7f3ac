from datetime import UTC, datetime

import pytest

from spinui.models import Application, AuditEntry
from spinui.permissions import EXECUTE, READ, WRITE, user_can
from tests.spinui.api_support import api_client, send_json


def test_the_list_has_gates_fields_with_attributes_alongside(admin, application):
    application.attributes = {"repoType": "github", "cloudProviders": "dcos"}
    application.save()

    response = api_client(admin).get("/api/v1/applications")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    [listed] = response.json()
    assert listed == {
        "name": "hello",
        "email": "team@example.com",
        "description": "Hi",
        "repoType": "github",
        "cloudProviders": "dcos",
        "createTs": epoch_ms(application.created_at),
        "updateTs": epoch_ms(application.updated_at),
    }


def epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp()) * 1000 + moment.microsecond // 1000)


def test_the_list_is_sorted_by_name(admin):
    for name in ("zeta", "alpha", "mid"):
        Application.objects.create(name=name, email="a@example.com")

    response = api_client(admin).get("/api/v1/applications")

    assert [app["name"] for app in response.json()] == ["alpha", "mid", "zeta"]


def test_an_attribute_cannot_hide_a_field_spinui_owns(admin, application):
    application.attributes = {"email": "forged@example.com", "createTs": "0"}
    application.save()

    [listed] = api_client(admin).get("/api/v1/applications").json()

    assert listed["email"] == "team@example.com"
    assert listed["createTs"] != "0"


def test_the_list_costs_the_same_queries_for_many_applications(
    make_user, django_assert_max_num_queries
):
    apps = [Application(name=f"app{i}", email="a@example.com") for i in range(30)]
    Application.objects.bulk_create(apps)
    user = make_user("reader", {app: [READ] for app in Application.objects.all()})
    client = api_client(user)

    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/applications")

    assert len(response.json()) == 30


def test_one_application_has_gates_shape(make_user, application):
    reader = make_user("reader", {application: [READ]})

    response = api_client(reader).get("/api/v1/applications/hello")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "hello"
    assert body["attributes"]["email"] == "team@example.com"
    assert body["attributes"]["name"] == "hello"


def test_creating_an_application_keeps_further_attributes_and_answers_201(admin):
    response = send_json(
        api_client(admin),
        "POST",
        "/api/v1/applications",
        {"name": "shop", "email": "shop@example.com", "repoType": "github", "createTs": "1"},
    )

    assert response.status_code == 201
    assert response["Location"] == "/api/v1/applications/shop"
    created = Application.objects.get(name="shop")
    assert created.email == "shop@example.com"
    assert created.attributes == {"repoType": "github"}
    assert response.json()["attributes"]["repoType"] == "github"


def test_the_creator_gets_read_write_and_execute(make_user):
    creator = make_user("creator", can_create=True)

    response = send_json(
        api_client(creator),
        "POST",
        "/api/v1/applications",
        {"name": "shop", "email": "shop@example.com"},
    )

    assert response.status_code == 201
    created = Application.objects.get(name="shop")
    assert all(user_can(creator, level, created) for level in (READ, WRITE, EXECUTE))


def test_creating_writes_an_audit_entry_by_the_tokens_user(make_user):
    creator = make_user("creator", can_create=True)

    send_json(
        api_client(creator),
        "POST",
        "/api/v1/applications",
        {"name": "shop", "email": "shop@example.com"},
    )

    entry = AuditEntry.objects.get(action="create", target_type="application")
    assert entry.actor == creator
    assert entry.application == "shop"
    assert entry.changes["email"] == [None, "shop@example.com"]


def test_patching_replaces_fields_and_merges_attributes(make_user, application):
    application.attributes = {"repoType": "github", "keep": 1, "drop": True}
    application.save()
    writer = make_user("writer", {application: [WRITE]})

    response = send_json(
        api_client(writer),
        "PATCH",
        "/api/v1/applications/hello",
        {"description": "Greets", "repoType": "gitlab", "drop": None, "name": "hello"},
    )

    assert response.status_code == 200
    application.refresh_from_db()
    assert application.description == "Greets"
    assert application.email == "team@example.com"
    assert application.attributes == {"repoType": "gitlab", "keep": 1}
    assert response.json()["attributes"]["description"] == "Greets"


def test_a_listed_application_can_be_patched_back_unchanged(admin, application):
    client = api_client(admin)
    [listed] = client.get("/api/v1/applications").json()

    response = send_json(client, "PATCH", "/api/v1/applications/hello", listed)

    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="update").exists()


def test_patching_writes_an_audit_entry_with_before_and_after(make_user, application):
    writer = make_user("writer", {application: [WRITE]})

    send_json(
        api_client(writer),
        "PATCH",
        "/api/v1/applications/hello",
        {"email": "new@example.com"},
    )

    entry = AuditEntry.objects.get(action="update")
    assert entry.actor == writer
    assert entry.application == "hello"
    assert entry.changes == {"email": ["team@example.com", "new@example.com"]}


def test_deleting_answers_204_and_writes_an_audit_entry(make_user, application):
    writer = make_user("writer", {application: [WRITE]})

    response = api_client(writer).delete("/api/v1/applications/hello")

    assert response.status_code == 204
    assert response.content == b""
    assert not Application.objects.filter(name="hello").exists()
    entry = AuditEntry.objects.get(action="delete")
    assert (entry.actor, entry.target_name, entry.application) == (writer, "hello", "hello")


@pytest.mark.parametrize("moment_ms", [0, 1, 999])
def test_times_are_milliseconds_since_the_epoch_in_strings(admin, application, moment_ms):
    moment = datetime(2026, 1, 2, 3, 4, 5, moment_ms * 1000, tzinfo=UTC)
    Application.objects.filter(pk=application.pk).update(created_at=moment)

    [listed] = api_client(admin).get("/api/v1/applications").json()

    assert listed["createTs"] == str(int(moment.timestamp()) * 1000 + moment_ms)
