"""The actions on the server group page and the create form, as a user clicks them."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from guardian.shortcuts import assign_perm

from pipelines.models import Execution
from pipelines.status import Status
from spinui.infrastructure import region_refresh
from spinui.models import AuditEntry
from tests.pipelines.operations.conftest import create, orchestrate, settle
from tests.spinui.infrastructure.conftest import cached, marathon_app

ACTION_URL = "/applications/hello/serverGroups/dev/dev/hello-v000/{}/"


def action_url(action: str) -> str:
    return reverse("server_group_action", args=["hello", "dev", "dev", "hello-v000", action])


@pytest.fixture
def in_cache(dev):
    cached(dev, [marathon_app("/dev/hello-v000", instances=2)])


def user_with(app, dev, app_levels=(), account_levels=()) -> User:
    user = User.objects.create_user(f"u{User.objects.count()}")
    for level in app_levels:
        assign_perm(f"{level}_application", user, app)
    for level in account_levels:
        assign_perm(f"{level}_account", user, dev.account)
    return user


@pytest.mark.parametrize(
    ("app_levels", "account_levels", "status"),
    [
        ((), ("read", "write"), 404),
        (("read",), ("read", "write"), 403),
        (("write",), ("read",), 403),
        (("write",), (), 404),
        (("write",), ("write",), 302),
    ],
)
@pytest.mark.parametrize("action", ["resize", "disable", "enable", "destroy", "rollback"])
def test_an_action_needs_write_on_the_application_and_the_account(
    client, app, dev, in_cache, app_levels, account_levels, status, action
):
    client.force_login(user_with(app, dev, app_levels, account_levels))
    response = client.post(action_url(action), {"desired": "1"})
    if action == "rollback" and status == 302:
        status = 400  # allowed, but this cluster has nothing older to roll back to
    assert response.status_code == status
    assert Execution.objects.exists() is (status == 302)


def test_the_page_offers_actions_only_to_who_may_act(client, app, dev, in_cache):
    page = reverse("server_group_detail", args=["hello", "dev", "dev", "hello-v000"])
    client.force_login(user_with(app, dev, ("read",), ("read",)))
    assert action_url("destroy") not in client.get(page).content.decode()
    client.force_login(user_with(app, dev, ("write",), ("write",)))
    html = client.get(page).content.decode()
    for action in ("resize", "disable", "terminate", "rollback", "destroy"):
        assert action_url(action) in html
    assert "?clone=dev/dev/hello-v000" in html


def test_the_confirmation_says_that_disable_stops_the_tasks(client, app, dev, in_cache):
    client.force_login(user_with(app, dev, ("write",), ("write",)))
    html = client.get(action_url("disable")).content.decode()
    assert "Scale hello-v000 in dev/dev to 0: this STOPS all 2 of its tasks." in html


def test_an_action_runs_as_an_orchestration_in_the_history_and_the_audit_log(
    client, engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create(capacity={"desired": 1}))
    region_refresh(region=deployer_region())
    client.force_login(deployer)
    response = client.post(action_url("resize"), {"desired": "2"})
    execution = Execution.objects.get(name="Resize hello-v000")
    assert response["Location"] == reverse("execution_detail", args=[execution.id])
    assert execution.type == Execution.ORCHESTRATION and execution.run_as == "alice"
    assert settle(engine, execution).status == Status.SUCCEEDED
    assert localdcos.app("/dev/hello-v000")["instances"] == 2
    entry = AuditEntry.objects.get(action="resizeServerGroup")
    assert entry.target_name == "dev/dev/hello-v000" and entry.application == "hello"
    assert entry.changes["execution"] == str(execution.id)
    page = client.get(reverse("execution_detail", args=[execution.id]))
    assert page.status_code == 200 and "Resize hello-v000" in page.content.decode()


def deployer_region():
    from spinui.models import Region

    return Region.objects.get(name="dev")


def test_roll_back_enables_the_previous_server_group_then_disables_this_one(
    client, engine, app, deployer, localdcos
):
    orchestrate(engine, app, deployer, create())
    orchestrate(
        engine,
        app,
        deployer,
        {
            "type": "disableServerGroup",
            "credentials": "dev",
            "regions": ["dev"],
            "serverGroupName": "hello-v000",
        },
    )
    orchestrate(engine, app, deployer, create())
    region_refresh(region=deployer_region())
    client.force_login(deployer)
    url = reverse("server_group_action", args=["hello", "dev", "dev", "hello-v001", "rollback"])
    assert (
        "Enable hello-v000, the previous server group of hello" in client.get(url).content.decode()
    )
    client.post(url)
    execution = Execution.objects.get(name="Roll back hello-v001")
    assert settle(engine, execution).status == Status.SUCCEEDED
    assert localdcos.app("/dev/hello-v000")["instances"] == 1
    assert localdcos.app("/dev/hello-v001")["instances"] == 0


def test_terminate_an_instance_from_the_page(client, engine, app, deployer, localdcos):
    orchestrate(engine, app, deployer, create(capacity={"desired": 2}))
    region_refresh(region=deployer_region())
    client.force_login(deployer)
    task = localdcos.app("/dev/hello-v000")["tasks"][0]["id"]
    assert task in client.get(action_url("terminate")).content.decode()
    client.post(action_url("terminate"), {"instance": task, "shrink": "on"})
    execution = Execution.objects.get(name="Terminate hello-v000")
    assert settle(engine, execution).status == Status.SUCCEEDED
    app_json = localdcos.app("/dev/hello-v000")
    assert app_json["instances"] == 1 and task not in [t["id"] for t in app_json["tasks"]]


def test_manual_operations_are_listed_as_tasks_on_the_page_and_in_the_api(
    client, app, dev, in_cache
):
    from tests.spinui.api_support import api_client

    user = user_with(app, dev, ("write",), ("write",))
    client.force_login(user)
    client.post(action_url("destroy"))
    execution = Execution.objects.get()
    page = client.get(reverse("pipeline_list", args=["hello"])).content.decode()
    assert "Destroy hello-v000" in page and reverse("execution_detail", args=[execution.id]) in page
    listed = api_client(user).get("/api/v1/applications/hello/tasks").json()
    assert [(t["name"], t["stages"][0]["type"]) for t in listed] == [
        ("Destroy hello-v000", "destroyServerGroup")
    ]
