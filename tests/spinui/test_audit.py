from django.urls import reverse

from spinui.models import AuditEntry


def test_a_failed_login_is_recorded_with_the_username_tried(client, admin):
    response = client.post(reverse("login"), {"username": "admin", "password": "wrong-guess"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.actor, entry.actor_name, entry.target_name) == (None, "admin", "admin")
    assert "wrong-guess" not in str(entry.changes)


def test_creating_an_account_records_who_and_what(client, admin):
    client.force_login(admin)
    client.post(
        reverse("account_create"),
        {"name": "staging", "environment": "staging", "provider": "dcos", "description": ""},
    )
    entry = AuditEntry.objects.get(target_type="account")
    assert (entry.actor_name, entry.action, entry.target_name) == ("admin", "create", "staging")
    assert entry.changes["environment"] == [None, "staging"]


def test_the_global_audit_page_lists_the_newest_first(client, admin, application):
    client.force_login(admin)
    client.post(reverse("application_edit", args=["hello"]), {"email": "a@example.com"})
    client.post(reverse("application_edit", args=["hello"]), {"email": "b@example.com"})
    entries = list(client.get(reverse("audit_list")).context["page"].object_list)
    assert [e.changes["email"][1] for e in entries] == ["b@example.com", "a@example.com"]


def test_an_application_audit_page_shows_only_that_application(client, admin, application):
    client.force_login(admin)
    client.post(reverse("application_edit", args=["hello"]), {"email": "a@example.com"})
    client.post(reverse("account_create"), {"name": "qa", "environment": "qa", "provider": "dcos"})
    entries = client.get(reverse("application_audit", args=["hello"])).context["page"]
    assert [(e.target_type, e.target_name) for e in entries] == [("application", "hello")]
