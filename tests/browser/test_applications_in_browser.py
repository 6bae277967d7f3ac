from django.contrib.auth.models import Group, Permission, User
from playwright.sync_api import expect

from spinui.models import Application


def test_a_developer_logs_in_creates_an_application_and_sees_it_listed(page, live_server):
    developer = User.objects.create_user("devon", password="devon-pass-1")
    role = Group.objects.create(name="developers")
    role.permissions.add(Permission.objects.get(codename="add_application"))
    developer.groups.add(role)

    page.goto(f"{live_server.url}/applications/")
    page.fill("input[name=username]", "devon")
    page.fill("input[name=password]", "devon-pass-1")
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("Applications")

    page.click("text=New application")
    page.fill("input[name=name]", "my-shop")
    page.fill("input[name=email]", "shop@example.com")
    page.click("button:has-text('Save')")
    expect(page.locator("#id_name-error")).to_contain_text(
        "a dash would be read as the stack separator"
    )
    assert not Application.objects.exists()

    page.fill("input[name=name]", "shop")
    page.click("button:has-text('Save')")
    expect(page.locator(".messages")).to_contain_text("Created application shop.")

    page.click("nav >> text=Applications")
    expect(page.locator("#application-rows")).to_contain_text("shop")


def test_typing_in_the_search_box_filters_the_list_without_reloading(page, live_server):
    User.objects.create_superuser("root", password="root-pass-1")
    Application.objects.create(name="billing", email="b@example.com")
    Application.objects.create(name="catalog", email="c@example.com")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "root-pass-1")
    page.click("button:has-text('Log in')")
    page.evaluate("window.notReloaded = true")

    page.fill("input[type=search]", "bill")
    expect(page.locator("#application-rows tr")).to_have_count(1)
    expect(page.locator("#application-rows")).to_contain_text("billing")
    assert page.evaluate("window.notReloaded") is True
    assert "q=bill" in page.url
