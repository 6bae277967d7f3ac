"""The create-server-group form: defaults, per-field messages, the preview, and creating."""

from django.urls import reverse

from pipelines.models import Execution
from pipelines.status import Status
from spinui.infrastructure import region_refresh
from tests.pipelines.operations.conftest import create, orchestrate, settle

FORM = {
    "placement": "dev/dev",
    "stack": "web",
    "detail": "",
    "image": "spinui/hello:1.0",
    "instances": "1",
    "cpus": "0.01",
    "mem": "16",
    "disk": "0",
    "gpus": "0",
    "network": "HOST",
    "health_path": "/health",
    "health_port_index": "0",
    "health_grace_seconds": "30",
    "health_interval_seconds": "1",
    "health_timeout_seconds": "2",
    "health_max_failures": "3",
}
URL = reverse("server_group_create", args=["hello"])


def test_the_form_starts_with_decks_defaults_and_previews_the_id(client, app, deployer):
    client.force_login(deployer)
    response = client.get(URL)
    form = response.context["form"]
    assert (form["cpus"].value(), form["mem"].value(), form["instances"].value()) == (0.5, 512, 1)
    assert form["network"].value() == "HOST"
    assert response.context["preview"]["marathon_id"] == "/dev/hello-v000"


def test_each_bad_field_gets_its_own_message(client, app, deployer):
    client.force_login(deployer)
    bad = {
        **FORM,
        "stack": "Web-1",
        "cpus": "0",
        "ports": "http 80",
        "constraints": "hostname",
        "network": "USER",
        "env": "NOEQUALS",
        "submit": "create",
    }
    response = client.post(URL, bad)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"stack", "cpus", "ports", "env"}
    assert "Line 1: write [name:]port[/tcp|udp]." in errors["ports"]
    assert not Execution.objects.exists()
    fixed = {**bad, "stack": "web", "cpus": "0.1", "ports": "http:0", "env": "A=b"}
    errors = client.post(URL, fixed).context["form"].errors
    assert set(errors) == {"constraints", "network_name"}


def test_the_preview_shows_the_next_id_and_the_json(client, engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(stack="web"))
    region_refresh(region=deployer.region)
    client.force_login(deployer)
    response = client.post(
        URL,
        {**FORM, "env": "GREETING=hi", "health_protocol": "HTTP", "submit": "preview"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert '<code class="marathon-id">/dev/hello-web-v001</code>' in html
    assert "<form" not in html  # just the preview partial
    assert "&quot;GREETING&quot;: &quot;hi&quot;" in html
    assert "&quot;path&quot;: &quot;/health&quot;" in html
    assert "&quot;id&quot;: &quot;/dev/hello-web-v001&quot;" in html


def test_creating_from_the_form_runs_a_create_orchestration(
    client, engine, app, deployer, localdcos
):
    client.force_login(deployer)
    response = client.post(URL, {**FORM, "health_protocol": "HTTP", "submit": "create"})
    assert response.status_code == 302, response.context["form"].errors
    execution = Execution.objects.get(name="Create server group hello-web-v000")
    assert settle(engine, execution).status == Status.SUCCEEDED
    app_json = localdcos.app("/dev/hello-web-v000")
    assert app_json["tasksHealthy"] == 1 and app_json["cpus"] == 0.01


def test_clone_opens_the_form_prefilled(client, engine, app, deployer, localdcos):
    orchestrate(
        engine,
        app,
        deployer,
        create(stack="web", env={"GREETING": "x"}, capacity={"desired": 2}, mem=24),
    )
    region_refresh(region=deployer.region)
    client.force_login(deployer)
    response = client.get(URL + "?clone=dev/dev/hello-web-v000")
    form = response.context["form"]
    assert form["stack"].value() == "web" and form["instances"].value() == 2
    assert form["mem"].value() == 24 and form["env"].value() == "GREETING=x"
    assert response.context["preview"]["marathon_id"] == "/dev/hello-web-v001"


def test_a_user_without_write_on_the_application_cannot_open_the_form(client, app, alice, dev):
    from guardian.shortcuts import assign_perm

    assign_perm("read_application", alice, app)
    client.force_login(alice)
    assert client.get(URL).status_code == 403


def test_cloning_from_the_form_copies_values_the_cache_hides(
    client, engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(stack="web", env={"DB_PASSWORD": "s3cret"}))
    region_refresh(region=deployer.region)
    client.force_login(deployer)
    url = URL + "?clone=dev/dev/hello-web-v000"
    form = client.get(url).context["form"]
    assert form["env"].value() == "DB_PASSWORD=••••••"  # never shown
    data = {
        name: ("on" if value is True else value)
        for name, value in ((f.name, f.value()) for f in form)
        if value is not None and value is not False
    }
    response = client.post(url, {**data, "instances": "2", "submit": "create"})
    assert response.status_code == 302, response.context["form"].errors
    execution = Execution.objects.get(name="Clone server group hello-web-v001")
    assert settle(engine, execution).status == Status.SUCCEEDED
    copy = localdcos.app("/dev/hello-web-v001")
    assert copy["env"] == {"DB_PASSWORD": "s3cret"} and copy["instances"] == 2
