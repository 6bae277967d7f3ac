"""Raw HTTP: Marathon's shapes, status codes and error bodies for apps."""

from __future__ import annotations

import pytest

from .conftest import wait_until

SLEEPER = {"cmd": "sleep 3600", "cpus": 0.1, "mem": 16}


def test_create_answers_201_with_location_deployment_id_and_an_app_info(localdcos):
    response = localdcos.request("POST", "/v2/apps", json={"id": "web", **SLEEPER})
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/v2/apps/web")
    body = response.json()
    assert body["deployments"] == [{"id": response.headers["Marathon-Deployment-Id"]}]
    assert body["id"] == "/web"
    assert (body["tasksRunning"], body["tasksStaged"], body["tasksHealthy"]) == (0, 0, 0)
    assert body["upgradeStrategy"] == {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
    assert body["backoffFactor"] == 1.15 and body["maxLaunchDelaySeconds"] == 300
    assert 10000 <= body["portDefinitions"][0]["port"] <= 20000


def test_a_second_create_of_the_same_id_is_409(localdcos):
    localdcos.create({"id": "/web", **SLEEPER})
    response = localdcos.request("POST", "/v2/apps", json={"id": "/web", **SLEEPER})
    assert response.status_code == 409
    assert response.json() == {"message": "An app with id [/web] already exists."}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/apps/ghost"),
        ("PATCH", "/v2/apps/ghost"),
        ("DELETE", "/v2/apps/ghost"),
        ("POST", "/v2/apps/ghost/restart"),
        ("GET", "/v2/apps/ghost/tasks"),
        ("GET", "/v2/apps/ghost/versions"),
    ],
)
def test_an_unknown_app_is_404_with_marathons_message(localdcos, method, path):
    response = localdcos.request(method, path, json={"instances": 1})
    assert response.status_code == 404
    assert response.json() == {"message": "App '/ghost' does not exist"}


@pytest.mark.parametrize("bad_id", ["Web", "a_b", "/x/tasks", "-web", "web-", "/a//versions"])
def test_an_invalid_id_is_422_naming_the_id(localdcos, bad_id):
    response = localdcos.request("POST", "/v2/apps", json={"id": bad_id, **SLEEPER})
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Object is not valid"
    assert body["details"][0]["path"] == "/id"
    assert body["details"][0]["errors"]


@pytest.mark.parametrize(
    ("field", "value", "path", "error"),
    [
        (
            "upgradeStrategy",
            {"minimumHealthCapacity": 1.5},
            "/upgradeStrategy/minimumHealthCapacity",
            "is greater than 1",
        ),
        (
            "upgradeStrategy",
            {"maximumOverCapacity": -1},
            "/upgradeStrategy/maximumOverCapacity",
            "is less than 0",
        ),
        ("cpus", 0, "/cpus", "got 0.0, expected 0.001 or more"),
        ("instances", -1, "/instances", "got -1, expected 0 or more"),
        ("backoffFactor", 0.5, "/backoffFactor", "got 0.5, expected 1.0 or more"),
    ],
)
def test_an_invalid_field_is_422_with_its_json_path(localdcos, field, value, path, error):
    response = localdcos.request("POST", "/v2/apps", json={"id": "x", **SLEEPER, field: value})
    assert response.status_code == 422
    assert {"path": path, "errors": [error]} in response.json()["details"]


def test_an_app_without_cmd_args_or_container_is_422_at_the_root(localdcos):
    response = localdcos.request("POST", "/v2/apps", json={"id": "x"})
    assert response.status_code == 422
    assert response.json()["details"][0]["path"] == "/"


def test_a_field_of_the_wrong_json_type_is_400_invalid_json(localdcos):
    response = localdcos.request("POST", "/v2/apps", json={"id": "x", "cmd": 5})
    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid JSON",
        "details": [{"path": "/cmd", "errors": ["error.expected.jsstring"]}],
    }


def test_a_body_that_is_not_json_is_400_with_a_message(localdcos):
    response = localdcos.request("POST", "/v2/apps", data=b"{nope")
    assert response.status_code == 400
    assert isinstance(response.json()["message"], str)


def test_put_on_v2_apps_needs_an_array(localdcos):
    response = localdcos.request("PUT", "/v2/apps", json={"id": "x", **SLEEPER})
    assert response.status_code == 400
    assert response.json()["details"][0]["errors"] == ["error.expected.jsarray"]
    response = localdcos.request("PUT", "/v2/apps", json=[{"id": "x", **SLEEPER}])
    assert response.status_code in (200, 201)
    assert "Marathon-Deployment-Id" in response.headers


def test_put_creates_with_201_then_updates_with_200_and_a_deployment_result(localdcos):
    created = localdcos.request("PUT", "/v2/apps/api", json=SLEEPER)
    assert created.status_code == 201
    assert set(created.json()) == {"deploymentId", "version"}
    localdcos.deployed("/api")
    updated = localdcos.request("PUT", "/v2/apps/api", json={"cmd": "sleep 3601"})
    assert updated.status_code == 200
    assert updated.headers["Marathon-Deployment-Id"] == updated.json()["deploymentId"]
    assert localdcos.app("/api")["mem"] == 16, "partialUpdate keeps the other fields"


def test_partial_update_false_replaces_the_definition(localdcos):
    localdcos.create({"id": "api", "labels": {"team": "a"}, **SLEEPER})
    localdcos.deployed("/api")
    response = localdcos.request(
        "PUT", "/v2/apps/api?partialUpdate=false", json={"cmd": "sleep 5000"}
    )
    assert response.status_code == 200
    app = localdcos.app("/api")
    assert app["labels"] == {} and app["mem"] == 128


def test_patch_merges_and_ignores_the_body_id(localdcos):
    localdcos.create({"id": "api", **SLEEPER})
    localdcos.deployed("/api")
    response = localdcos.request("PATCH", "/v2/apps/api", json={"id": "/other", "mem": 32})
    assert response.status_code == 200
    assert localdcos.app("/api")["mem"] == 32
    assert localdcos.get("/v2/apps/other").status_code == 404


def test_versions_list_newest_first_and_a_put_of_a_version_rolls_back(localdcos):
    localdcos.create({"id": "api", **SLEEPER})
    localdcos.deployed("/api")
    first = localdcos.app("/api")["version"]
    localdcos.request("PUT", "/v2/apps/api", json={"cmd": "sleep 4000"})
    localdcos.deployed("/api")
    versions = localdcos.get("/v2/apps/api/versions").json()["versions"]
    assert versions[-1] == first and versions == sorted(versions, reverse=True)
    old = localdcos.get(f"/v2/apps/api/versions/{first}").json()
    assert old["cmd"] == "sleep 3600" and old["version"] == first
    rollback = localdcos.request("PUT", "/v2/apps/api", json={"version": first})
    assert rollback.status_code == 200
    app = localdcos.deployed("/api")
    assert app["cmd"] == "sleep 3600"
    assert app["version"] not in versions, "a rollback is a new version"


def test_list_filters_by_id_cmd_and_label_selectors(localdcos):
    localdcos.create({"id": "/shop/web", **SLEEPER, "labels": {"tier": "front", "env": "dev"}})
    localdcos.create({"id": "/shop/db", **SLEEPER, "cmd": "sleep 99", "labels": {"tier": "back"}})

    def ids(query):
        return sorted(a["id"] for a in localdcos.get(f"/v2/apps?{query}").json()["apps"])

    assert ids("id=SHOP/W") == ["/shop/web"]
    assert ids("cmd=sleep 99") == ["/shop/db"]
    assert ids("label=tier==front") == ["/shop/web"]
    assert ids("label=tier!=front") == ["/shop/db"]
    assert ids("label=tier in (front, back)") == ["/shop/db", "/shop/web"]
    assert ids("label=env") == ["/shop/web"]
    assert ids("label=tier notin (front)") == ["/shop/db"]
    assert [a["id"] for a in localdcos.get("/v2/apps/shop/*").json()["*"]] == [
        "/shop/web",
        "/shop/db",
    ]


def test_embed_takes_both_apps_and_app_prefixes(localdcos):
    localdcos.create({"id": "api", **SLEEPER})
    localdcos.deployed("/api")
    plain = localdcos.get("/v2/apps").json()["apps"][0]
    assert "tasks" not in plain and "tasksRunning" in plain and "deployments" in plain
    for prefix in ("apps", "app"):
        embedded = localdcos.get(f"/v2/apps?embed={prefix}.tasks&embed={prefix}.taskStats")
        app = embedded.json()["apps"][0]
        assert len(app["tasks"]) == 1
        assert app["taskStats"]["totalSummary"]["stats"]["counts"]["running"] == 1


def test_a_changed_label_restarts_every_task_and_a_scale_keeps_them(localdcos):
    localdcos.create({"id": "api", **SLEEPER, "instances": 2})
    before = localdcos.deployed("/api")
    first = localdcos.running_task_ids("/api")
    localdcos.request("PUT", "/v2/apps/api", json={"instances": 3})
    scaled = localdcos.deployed("/api")
    assert first < localdcos.running_task_ids("/api")
    info = scaled["versionInfo"]
    assert info["lastConfigChangeAt"] == before["versionInfo"]["lastConfigChangeAt"]
    assert info["lastScalingAt"] > before["versionInfo"]["lastScalingAt"]
    localdcos.request("PUT", "/v2/apps/api", json={"labels": {"traffic": "off"}})
    relabelled = localdcos.deployed("/api")
    wait_until(lambda: len(localdcos.running_task_ids("/api")) == 3)
    assert not first & localdcos.running_task_ids("/api")
    assert relabelled["versionInfo"]["lastConfigChangeAt"] > info["lastConfigChangeAt"]


def test_query_booleans_are_case_insensitive(localdcos):
    localdcos.create({"id": "slow", **SLEEPER, **NEVER_HEALTHY})
    locked = localdcos.request("PUT", "/v2/apps/slow?force=false", json={"mem": 20})
    assert locked.status_code == 409
    forced = localdcos.request("PUT", "/v2/apps/slow?force=True", json={"mem": 24})
    assert forced.status_code == 200


NEVER_HEALTHY = {
    "healthChecks": [
        {
            "protocol": "TCP",
            "portIndex": 0,
            "gracePeriodSeconds": 600,
            "intervalSeconds": 1,
            "maxConsecutiveFailures": 0,
        }
    ]
}


def test_a_locked_app_is_409_listing_the_deployment(localdcos):
    created = localdcos.create({"id": "slow", **SLEEPER, **NEVER_HEALTHY})
    deployment_id = created.headers["Marathon-Deployment-Id"]
    response = localdcos.request("PUT", "/v2/apps/slow", json={"mem": 20})
    assert response.status_code == 409
    body = response.json()
    assert body["deployments"] == [{"id": deployment_id}]
    assert body["message"].startswith("App is locked by one or more deployments.")


def test_a_deployment_whose_tasks_never_turn_healthy_stays(localdcos):
    created = localdcos.create({"id": "slow", **SLEEPER, **NEVER_HEALTHY})
    wait_until(lambda: localdcos.app("/slow")["tasksRunning"] == 1)
    for _ in range(10):
        deployments = localdcos.get("/v2/deployments").json()
        assert [d["id"] for d in deployments] == [created.headers["Marathon-Deployment-Id"]]
    (plan,) = deployments
    assert plan["currentStep"] == 2 and plan["totalSteps"] == 2
    assert plan["currentActions"][0]["action"] == "ScaleApplication"
    assert [s["actions"][0]["action"] for s in plan["steps"]] == [
        "StartApplication",
        "ScaleApplication",
    ]


def test_deleting_a_deployment_with_force_stops_it_with_202_and_no_body(localdcos):
    created = localdcos.create({"id": "slow", **SLEEPER, **NEVER_HEALTHY})
    deployment_id = created.headers["Marathon-Deployment-Id"]
    response = localdcos.request("DELETE", f"/v2/deployments/{deployment_id}?force=true")
    assert response.status_code == 202 and response.content == b""
    assert localdcos.get("/v2/deployments").json() == []
    assert localdcos.app("/slow")["instances"] == 1


def test_deleting_a_deployment_reverts_it_with_a_new_deployment(localdcos):
    localdcos.create({"id": "api", **SLEEPER})
    localdcos.deployed("/api")
    stuck = localdcos.request("PUT", "/v2/apps/api", json=NEVER_HEALTHY)
    response = localdcos.request("DELETE", f"/v2/deployments/{stuck.json()['deploymentId']}")
    assert response.status_code == 200
    assert response.json()["deploymentId"] != stuck.json()["deploymentId"]
    app = localdcos.deployed("/api")
    assert app["healthChecks"] == []


def test_an_unknown_deployment_is_404(localdcos):
    response = localdcos.request("DELETE", "/v2/deployments/nope")
    assert response.status_code == 404
    assert response.json() == {"message": "DeploymentPlan nope does not exist"}


def test_delete_app_stops_its_tasks_and_ends_with_no_app(localdcos):
    localdcos.create({"id": "api", **SLEEPER, "instances": 2})
    localdcos.deployed("/api")
    response = localdcos.request("DELETE", "/v2/apps/api")
    assert response.status_code == 200 and "deploymentId" in response.json()
    assert localdcos.get("/v2/apps/api").status_code == 404
    wait_until(lambda: localdcos.get("/v2/deployments").json() == [])
    assert localdcos.get("/v2/tasks").json() == {"tasks": []}
