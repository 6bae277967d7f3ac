"""Each role and permission level against each page: allowed, refused (403), or hidden (404)."""

import pytest
from django.urls import reverse

from spinui.models import Account, Application

LEVELS_OF = {
    "nobody": {},
    "read": {"hello": ["read"], "dev": ["read"]},
    "write": {"hello": ["write"], "dev": ["write"]},
    "execute": {"hello": ["execute"]},
    "admin": None,
}

# (name, method, url name, args, expected status per level)
PAGES = [
    (
        "app detail",
        "get",
        "application_detail",
        ["hello"],
        {"nobody": 404, "read": 200, "write": 200, "execute": 200, "admin": 200},
    ),
    (
        "app edit form",
        "get",
        "application_edit",
        ["hello"],
        {"nobody": 404, "read": 403, "write": 200, "execute": 403, "admin": 200},
    ),
    (
        "app edit",
        "post",
        "application_edit",
        ["hello"],
        {"nobody": 404, "read": 403, "write": 302, "execute": 403, "admin": 302},
    ),
    (
        "app delete form",
        "get",
        "application_delete",
        ["hello"],
        {"nobody": 404, "read": 403, "write": 200, "execute": 403, "admin": 200},
    ),
    (
        "app audit",
        "get",
        "application_audit",
        ["hello"],
        {"nobody": 404, "read": 200, "write": 200, "execute": 200, "admin": 200},
    ),
    (
        "app permissions",
        "get",
        "application_permissions",
        ["hello"],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
    (
        "new app form",
        "get",
        "application_create",
        [],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
    (
        "account detail",
        "get",
        "account_detail",
        ["dev"],
        {"nobody": 404, "read": 200, "write": 200, "execute": 404, "admin": 200},
    ),
    (
        "account change",
        "post",
        "account_detail",
        ["dev"],
        {"nobody": 404, "read": 403, "write": 403, "execute": 404, "admin": 302},
    ),
    (
        "account permissions",
        "get",
        "account_permissions",
        ["dev"],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
    (
        "new account form",
        "get",
        "account_create",
        [],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
    (
        "region form",
        "get",
        "region_edit",
        ["dev", "dev"],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
    (
        "registries",
        "get",
        "registry_list",
        [],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
    (
        "roles",
        "get",
        "role_list",
        [],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
    (
        "global audit",
        "get",
        "audit_list",
        [],
        {"nobody": 403, "read": 403, "write": 403, "execute": 403, "admin": 200},
    ),
]

VALID_POSTS = {
    "application_edit": {"email": "new-owner@example.com", "description": "changed"},
    "account_detail": {"environment": "dev", "provider": "dcos", "description": "changed"},
}


@pytest.fixture
def person(request, client, admin, make_user, application, account):
    level = request.param
    if level == "admin":
        client.force_login(admin)
        return client
    objects = {"hello": application, "dev": account}
    grants = {objects[name]: levels for name, levels in LEVELS_OF[level].items()}
    client.force_login(make_user(f"user-{level}", grants))
    return client


@pytest.mark.parametrize("person", list(LEVELS_OF), indirect=True)
@pytest.mark.parametrize(
    "method,url_name,args,expected", [page[1:] for page in PAGES], ids=[p[0] for p in PAGES]
)
def test_each_page_allows_or_refuses_each_level(person, request, method, url_name, args, expected):
    level = request.node.callspec.params["person"]
    url = reverse(url_name, args=args)
    response = person.get(url) if method == "get" else person.post(url, VALID_POSTS[url_name])
    assert response.status_code == expected[level], f"{level} {method.upper()} {url}"


@pytest.mark.parametrize("person", ["nobody", "read", "write", "execute", "admin"], indirect=True)
def test_the_application_list_shows_only_applications_the_user_may_read(person, request, db):
    Application.objects.create(name="secretapp", email="x@example.com")
    level = request.node.callspec.params["person"]
    names = [a.name for a in person.get(reverse("application_list")).context["applications"]]
    expected = {
        "nobody": [],
        "read": ["hello"],
        "write": ["hello"],
        "execute": ["hello"],
        "admin": ["hello", "secretapp"],
    }[level]
    assert names == expected


@pytest.mark.parametrize("person", ["nobody", "read", "write", "admin"], indirect=True)
def test_the_account_list_shows_only_accounts_the_user_may_read(person, request, db):
    Account.objects.create(name="prod", environment="prod")
    level = request.node.callspec.params["person"]
    names = [a.name for a in person.get(reverse("account_list")).context["accounts"]]
    expected = {"nobody": [], "read": ["dev"], "write": ["dev"], "admin": ["dev", "prod"]}[level]
    assert names == expected


def test_a_hidden_application_looks_exactly_like_a_missing_one(client, make_user, application):
    client.force_login(make_user("outsider"))
    hidden = client.get(reverse("application_detail", args=["hello"]))
    missing = client.get(reverse("application_detail", args=["nosuchapp"]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(b"hello", b"X") == missing.content.replace(b"nosuchapp", b"X")


def test_a_user_needs_to_log_in_first(client, application):
    response = client.get(reverse("application_detail", args=["hello"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
