import pytest
from django.urls import reverse

from spinui.models import Application, AuditEntry
from spinui.permissions import EXECUTE, READ, WRITE, user_can


@pytest.fixture
def developer(client, make_user):
    user = make_user("dev1", can_create=True)
    client.force_login(user)
    return user


def create(client, **fields):
    data = {"name": "shop", "email": "shop@example.com", "description": "The shop"} | fields
    return client.post(reverse("application_create"), data)


def test_a_developer_creates_an_application_and_may_use_it(client, developer):
    response = create(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("application_detail", args=["shop"])
    shop = Application.objects.get(name="shop")
    assert (shop.email, shop.description) == ("shop@example.com", "The shop")
    assert all(user_can(developer, level, shop) for level in (READ, WRITE, EXECUTE))


@pytest.mark.parametrize(
    "name,message",
    [
        ("my-shop", "a dash would be read as the stack separator"),
        ("Shop", "Use lowercase letters and digits only"),
        ("shop_1", "Use lowercase letters and digits only"),
        ("", "This field is required."),
        ("x" * 64, "at most 63 characters"),
    ],
)
def test_an_invalid_name_is_refused_at_the_field(client, developer, name, message):
    response = create(client, name=name)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["name"])
    assert not Application.objects.exists()


def test_a_duplicate_name_is_refused(client, developer, application):
    response = create(client, name="hello")
    assert "Application with this Name already exists." in response.context["form"].errors["name"]
    assert Application.objects.count() == 1


def test_an_invalid_owner_email_is_refused(client, developer):
    response = create(client, email="not-an-email")
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]


def test_editing_changes_the_owner_but_never_the_name(client, admin, application):
    client.force_login(admin)
    response = client.post(
        reverse("application_edit", args=["hello"]),
        {"name": "renamed", "email": "new@example.com", "description": "New words"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.name, application.email) == ("hello", "new@example.com")
    entry = AuditEntry.objects.get(action="update")
    assert entry.changes == {
        "description": ["Hi", "New words"],
        "email": ["team@example.com", "new@example.com"],
    }
    assert (entry.actor, entry.application) == (admin, "hello")


def test_deleting_an_application_removes_it_and_keeps_its_history(client, admin, application):
    client.force_login(admin)
    response = client.post(reverse("application_delete", args=["hello"]))
    assert response.status_code == 302
    assert not Application.objects.exists()
    assert AuditEntry.objects.filter(application="hello", action="delete").exists()


def test_the_list_searches_by_name_description_and_owner(client, admin, application):
    Application.objects.create(name="billing", email="money@example.com", description="Invoices")
    client.force_login(admin)

    def names(query):
        response = client.get(reverse("application_list"), {"q": query})
        return [a.name for a in response.context["applications"]]

    assert names("bill") == ["billing"]
    assert names("invoices") == ["billing"]
    assert names("team@") == ["hello"]
    assert names("") == ["billing", "hello"]


def test_an_htmx_search_gets_only_the_rows(client, admin, application):
    client.force_login(admin)
    response = client.get(reverse("application_list"), {"q": "hel"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<tbody id="application-rows">')
    assert "hello" in html
    assert "<html" not in html


def test_the_list_costs_the_same_queries_for_many_applications(
    client, admin, django_assert_max_num_queries
):
    Application.objects.bulk_create(
        Application(name=f"app{i}", email="x@example.com") for i in range(60)
    )
    client.force_login(admin)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("application_list"))
    assert len(response.context["applications"]) == 60
