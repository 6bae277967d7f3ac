"""The clusters page in Chromium: live by polling, 304s leave it alone, clusters expand."""

from django.contrib.auth.models import User
from playwright.sync_api import expect

from spinui.models import Application
from tests.spinui.infrastructure.conftest import cached, marathon_app, region_of


def log_in(page, live_server) -> None:
    User.objects.create_superuser("root", password="root-pass-1")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "root-pass-1")
    page.click("button:has-text('Log in')")


def test_the_page_follows_the_cache_and_an_unchanged_poll_keeps_it(page, live_server, settings):
    settings.SPINUI_LIVE_POLL_SECONDS = 1
    Application.objects.create(name="hello", email="team@example.com")
    region = region_of(None, url="http://east.invalid")
    cached(region, [marathon_app("/dev/hello-v000")])
    log_in(page, live_server)
    page.goto(f"{live_server.url}/applications/hello/clusters/")
    expect(page.locator("#clusters")).to_contain_text("hello-v000")

    with page.expect_response(lambda r: "/clusters/" in r.url and r.status == 304):
        pass
    expect(page.locator("#clusters")).to_contain_text("hello-v000")

    cached(region, [marathon_app("/dev/hello-v000"), marathon_app("/dev/hello-v001", instances=2)])
    expect(page.locator("#clusters")).to_contain_text("hello-v001", timeout=5_000)
    expect(page.locator("#clusters .sq.up")).to_have_count(3)


def test_a_collapsed_cluster_expands_and_stays_open_while_polling(page, live_server, settings):
    settings.SPINUI_LIVE_POLL_SECONDS = 1
    settings.SPINUI_CLUSTERS_COLLAPSE_ABOVE = 1
    Application.objects.create(name="hello", email="team@example.com")
    region = region_of(None, url="http://east.invalid")
    cached(region, [marathon_app("/dev/hello-a-v000"), marathon_app("/dev/hello-b-v000")])
    log_in(page, live_server)
    page.goto(f"{live_server.url}/applications/hello/clusters/")
    expect(page.locator("#clusters")).not_to_contain_text("hello-a-v000")

    page.click("summary:has-text('hello-a')")
    expect(page.locator("#clusters")).to_contain_text("hello-a-v000")

    cached(
        region,
        [
            marathon_app("/dev/hello-a-v000"),
            marathon_app("/dev/hello-a-v001"),
            marathon_app("/dev/hello-b-v000"),
        ],
    )
    expect(page.locator("#clusters")).to_contain_text("hello-a-v001", timeout=5_000)
    expect(page.locator("#clusters")).not_to_contain_text("hello-b-v000")
