from django.contrib.auth.models import Group
from django.urls import reverse

from spinui.models import AuditEntry
from spinui.permissions import EXECUTE, READ, WRITE, grants_of, user_can


def test_an_admin_grants_a_role_levels_on_an_application(client, admin, make_user, application):
    member = make_user("carol")
    role = member.groups.get()
    client.force_login(admin)
    response = client.post(
        reverse("application_permissions", args=["hello"]),
        {"grant": [f"{role.pk}:read", f"{role.pk}:execute"]},
    )
    assert response.status_code == 302
    assert grants_of(application) == {role: {"read", "execute"}}
    assert user_can(member, EXECUTE, application)
    assert not user_can(member, WRITE, application)
    entry = AuditEntry.objects.get(action="permissions")
    assert entry.changes == {role.name: [[], ["READ", "EXECUTE"]]}


def test_unticking_every_level_takes_the_application_away(client, admin, make_user, application):
    member = make_user("dave", {application: ["read", "write"]})
    client.force_login(admin)
    client.post(reverse("application_permissions", args=["hello"]), {})
    assert grants_of(application) == {}
    assert not user_can(member, READ, application)


def test_account_grants_offer_read_and_write_only(client, admin, make_user, account):
    role = make_user("erin").groups.get()
    client.force_login(admin)
    page = client.get(reverse("account_permissions", args=["dev"]))
    assert page.context["levels"] == ("read", "write")
    client.post(
        reverse("account_permissions", args=["dev"]),
        {"grant": [f"{role.pk}:write", f"{role.pk}:execute"]},
    )
    assert grants_of(account) == {role: {"write"}}


def test_a_role_gets_members_and_the_right_to_create_applications(client, admin, make_user):
    frank = make_user("frank")
    client.force_login(admin)
    response = client.post(
        reverse("role_create"),
        {"name": "builders", "members": [frank.pk], "can_create_applications": "on"},
    )
    assert response.status_code == 302
    frank = type(frank).objects.get(pk=frank.pk)  # permissions are cached per instance
    assert frank.has_perm("spinui.add_application")
    assert Group.objects.get(name="builders").user_set.get() == frank
    entry = AuditEntry.objects.get(target_type="role")
    assert entry.changes["members"] == [None, ["frank"]]


def test_an_admin_creates_a_user_who_can_then_log_in(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("user_create"),
        {
            "username": "grace",
            "email": "grace@example.com",
            "password": "a-long-pass-1",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    client.logout()
    assert client.login(username="grace", password="a-long-pass-1")
    entry = AuditEntry.objects.get(target_type="user", action="create")
    assert "a-long-pass-1" not in str(entry.changes)
