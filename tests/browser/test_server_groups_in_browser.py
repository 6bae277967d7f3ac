"""Create a server group of spinui/hello from the form, watch it healthy, resize, disable,
enable and destroy it, in Chromium against a real localdcos."""

from playwright.sync_api import expect

from pipelines.models import Execution
from tests.pipelines.operations.conftest import (  # noqa: F401 - fixtures
    deployer,
    dev,
    localdcos,
    quick_operations,
    settle,
    start_localdcos,
)


def finish(engine, page, name: str) -> None:
    """The workers' part: run the orchestration the click started, and see it succeed."""
    expect(page.locator("h2")).to_contain_text(name)
    execution = Execution.objects.get(name=name)
    settle(engine, execution)
    expect(page.locator("h2 .status-badge")).to_have_text("SUCCEEDED", timeout=10_000)


def act(page, server_group_url: str, label: str, button: str) -> None:
    page.goto(server_group_url)
    page.click(f".server-group-actions a:has-text('{label}')")
    page.click(f"button:has-text('{button}')")


def test_an_engineer_creates_resizes_disables_enables_and_destroys_a_server_group(
    page,
    live_server,
    engine,
    app,
    deployer,  # noqa: F811
    localdcos,  # noqa: F811
):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pass-1")
    page.click("button:has-text('Log in')")

    page.goto(f"{live_server.url}/applications/hello/clusters/")
    page.click("text=Create server group")
    expect(page.locator(".marathon-id")).to_have_text("/dev/hello-v000")
    page.fill("input[name=stack]", "web")
    page.fill("input[name=image]", "spinui/hello:1.0")
    page.fill("input[name=cpus]", "0.01")
    page.fill("input[name=mem]", "16")
    page.select_option("select[name=health_protocol]", "HTTP")
    page.fill("input[name=health_grace_seconds]", "30")
    page.fill("input[name=health_interval_seconds]", "1")
    page.fill("input[name=health_timeout_seconds]", "2")
    page.locator("input[name=health_timeout_seconds]").blur()
    expect(page.locator(".marathon-id")).to_have_text("/dev/hello-web-v000")
    page.click("#preview summary")
    expect(page.locator("#preview pre")).to_contain_text('"path": "/health"')
    page.click("button:has-text('Create')")
    finish(engine, page, "Create server group hello-web-v000")

    server_group = f"{live_server.url}/applications/hello/serverGroups/dev/dev/hello-web-v000/"
    page.goto(server_group)
    expect(page.locator("table.instances tbody tr td:nth-child(3)")).to_have_text("Up")

    page.click(".server-group-actions a:has-text('Resize')")
    page.fill("input[name=desired]", "2")
    page.click("button:has-text('Resize hello-web-v000')")
    finish(engine, page, "Resize hello-web-v000")
    page.goto(server_group)
    expect(page.locator("table.instances tbody tr")).to_have_count(2)

    page.click(".server-group-actions a:has-text('Disable')")
    expect(page.locator(".confirm")).to_contain_text("this STOPS all 2 of its tasks")
    page.click("button:has-text('Disable hello-web-v000')")
    finish(engine, page, "Disable hello-web-v000")
    page.goto(server_group)
    expect(page.locator(".server-group-name .tag")).to_contain_text("disabled")

    act(page, server_group, "Enable", "Enable hello-web-v000")
    finish(engine, page, "Enable hello-web-v000")
    page.goto(server_group)
    expect(page.locator("table.instances tbody tr td:nth-child(3)")).to_have_text(["Up", "Up"])

    act(page, server_group, "Destroy", "Destroy hello-web-v000")
    finish(engine, page, "Destroy hello-web-v000")
    assert localdcos.request("GET", "/v2/apps/dev/hello-web-v000").status_code == 404
    page.goto(f"{live_server.url}/applications/hello/clusters/")
    expect(page.locator("body")).not_to_contain_text("hello-web-v000")
