"""Raw HTTP: tasks, queue, groups, info, leader, ping, admin-router prefixes and bad input."""

from __future__ import annotations

import socket

import pytest

from .conftest import LocalDcos, wait_until

SLEEPER = {"cmd": "sleep 3600", "cpus": 0.1, "mem": 16}


@pytest.mark.parametrize("prefix", ["", "/marathon", "/service/marathon"])
def test_marathon_answers_under_each_admin_router_prefix(localdcos, prefix):
    assert localdcos.get(f"{prefix}/v2/info").json()["name"] == "marathon"
    assert localdcos.get(f"{prefix}/ping").text.strip() == "pong"


def test_leader_names_this_marathon(localdcos):
    port = localdcos.ports["dev"]["admin"]
    assert localdcos.get("/v2/leader").json() == {"leader": f"127.0.0.1:{port}"}


def test_each_cluster_has_its_own_apps(localdcos):
    localdcos.create({"id": "only-dev", **SLEEPER})
    assert localdcos.request("GET", "/v2/apps", cluster="prod").json() == {"apps": []}


def test_an_unknown_marathon_uri_gets_marathons_answer_and_others_nginxs(localdcos):
    unknown = localdcos.get("/v2/nothing-here")
    assert unknown.status_code == 500
    assert unknown.json() == {"message": "URI not found"}
    outside = localdcos.get("/not-a-service")
    assert outside.status_code == 404
    assert outside.headers["Content-Type"] == "text/html"


def test_the_router_port_is_bound_and_answers_404_until_part_2(localdcos):
    router = localdcos.ports["dev"]["router"]
    response = localdcos.session.get(f"http://127.0.0.1:{router}/", timeout=5)
    assert response.status_code == 404


def test_tasks_filter_by_status_and_carry_marathons_fields(localdcos):
    localdcos.create({"id": "api", **SLEEPER, "instances": 2})
    localdcos.deployed("/api")
    running = localdcos.get("/v2/tasks?status=running").json()["tasks"]
    assert len(running) == 2
    task = running[0]
    assert task["id"].startswith("api.instance-") and task["id"].endswith("._app.1")
    assert 31000 <= task["ports"][0] <= 32000
    assert task["servicePorts"] == [localdcos.app("/api")["portDefinitions"][0]["port"]]
    assert task["stagedAt"].endswith("Z") and task["startedAt"].endswith("Z")
    assert task["ipAddresses"] == [{"ipAddress": "127.0.0.1", "protocol": "IPv4"}]
    assert localdcos.get("/v2/tasks?status[]=staging").json() == {"tasks": []}


def test_post_tasks_delete_refuses_ids_that_are_not_task_ids(localdcos):
    response = localdcos.request("POST", "/v2/tasks/delete", json={"ids": ["not a task"]})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid task id")


def test_post_tasks_delete_with_scale_lowers_instances(localdcos):
    localdcos.create({"id": "api", **SLEEPER, "instances": 3})
    localdcos.deployed("/api")
    victims = sorted(localdcos.running_task_ids("/api"))[:2]
    response = localdcos.request("POST", "/v2/tasks/delete?scale=true", json={"ids": victims})
    assert response.status_code == 200 and "deploymentId" in response.json()
    app = localdcos.deployed("/api")
    assert app["instances"] == 1
    assert not set(victims) & localdcos.running_task_ids("/api")


def test_kill_selection_oldest_first_kills_the_oldest_on_scale_down(localdcos):
    localdcos.create({"id": "api", **SLEEPER, "instances": 1, "killSelection": "OLDEST_FIRST"})
    localdcos.deployed("/api")
    (oldest,) = localdcos.running_task_ids("/api")
    localdcos.request("PUT", "/v2/apps/api", json={"instances": 2})
    localdcos.deployed("/api")
    localdcos.request("PUT", "/v2/apps/api", json={"instances": 1})
    localdcos.deployed("/api")
    wait_until(lambda: len(localdcos.running_task_ids("/api")) == 1)
    assert oldest not in localdcos.running_task_ids("/api")


def test_groups_nest_apps_by_their_path(localdcos):
    localdcos.create({"id": "/dev/shop/web", **SLEEPER})
    localdcos.create({"id": "/top", **SLEEPER})
    root = localdcos.get("/v2/groups").json()
    assert root["id"] == "/"
    assert [a["id"] for a in root["apps"]] == ["/top"]
    (dev,) = root["groups"]
    assert dev["id"] == "/dev" and dev["groups"][0]["apps"][0]["id"] == "/dev/shop/web"
    assert localdcos.get("/v2/groups/dev/shop").json()["id"] == "/dev/shop"
    assert localdcos.get("/v2/groups/nope").status_code == 404


def test_the_queue_shows_an_app_waiting_for_its_launch_delay(localdcos):
    localdcos.create(
        {"id": "crash", "cmd": "exit 3", "cpus": 0.1, "mem": 16, "backoffSeconds": 100}
    )

    def delayed():
        entries = localdcos.get("/v2/queue").json()["queue"]
        return entries and entries[0]["delay"]["timeLeftSeconds"] > 0 and entries[0]

    entry = wait_until(delayed)
    assert entry["app"]["id"] == "/crash" and entry["count"] == 1
    assert entry["delay"]["overdue"] is False
    assert set(entry) == {"app", "count", "delay", "since", "processedOffersSummary", "role"}
    reset = localdcos.request("DELETE", "/v2/queue/crash/delay")
    assert reset.status_code == 204
    wait_until(
        lambda: all(
            e["delay"]["timeLeftSeconds"] < 100 for e in localdcos.get("/v2/queue").json()["queue"]
        )
    )


def test_an_oversized_body_gets_nginxs_413_and_localdcos_keeps_serving(localdcos):
    response = localdcos.request("POST", "/v2/apps", data=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert localdcos.get("/ping").status_code == 200


def test_a_garbage_request_line_gets_400_and_localdcos_keeps_serving(localdcos):
    with socket.create_connection(("127.0.0.1", localdcos.ports["dev"]["admin"]), 5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert localdcos.get("/ping").status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"[]", b"null", b"1", b"[" * 5000 + b"]" * 5000, b'{"id": "x", "env": {"A": 1}}', b""],
)
def test_odd_json_bodies_get_400_or_422_never_a_crash(localdcos, body):
    response = localdcos.request("POST", "/v2/apps", data=body)
    assert response.status_code in (400, 422)
    assert "message" in response.json()
    assert localdcos.get("/ping").status_code == 200


def test_a_wrong_method_is_405(localdcos):
    assert localdcos.request("DELETE", "/v2/info").status_code == 405
    assert localdcos.request("POST", "/v2/deployments").status_code == 405


@pytest.mark.parametrize(
    ("field", "value"),
    [("instances", "2.5"), ("instances", "1e400"), ("instances", "2147483648"), ("gpus", "-3e12")],
)
def test_an_integer_field_that_is_no_int32_is_400(localdcos, field, value):
    response = localdcos.request(
        "POST", "/v2/apps", data=f'{{"id": "x", "cmd": "sleep 1", "{field}": {value}}}'
    )
    assert response.status_code == 400
    assert response.json()["details"] == [{"path": f"/{field}", "errors": ["error.expected.int"]}]


def test_nan_is_not_json(localdcos):
    response = localdcos.request("POST", "/v2/apps", data=b'{"id": "x", "cmd": "a", "cpus": NaN}')
    assert response.status_code == 400


def test_an_env_value_no_process_can_take_fails_the_task_not_localdcos(localdcos):
    localdcos.create({"id": "nul", "cmd": "sleep 3600", "env": {"BAD": "a\u0000b"}})
    failure = wait_until(lambda: localdcos.app("/nul").get("lastTaskFailure"))
    assert failure["state"] == "TASK_FAILED"
    assert localdcos.get("/ping").status_code == 200


def test_an_app_asking_for_more_ports_than_the_agent_has_waits_without_harm(localdcos):
    localdcos.create({"id": "greedy", "cmd": "sleep 3600", "portDefinitions": [{"port": 0}] * 1200})
    localdcos.create({"id": "modest", "cmd": "sleep 3600"})
    assert localdcos.deployed("/modest")["tasksRunning"] == 1
    assert localdcos.app("/greedy")["tasks"] == []


def test_beyond_max_tasks_launches_wait_as_if_no_offers_came(tmp_path):
    server = LocalDcos(tmp_path / "capped", ["--max-tasks", "2"]).start()
    try:
        server.create({"id": "wide", "cmd": "sleep 3600", "instances": 3})
        wait_until(lambda: server.app("/wide")["tasksRunning"] == 2)
        (entry,) = server.get("/v2/queue").json()["queue"]
        assert entry["count"] == 1
        assert server.app("/wide")["deployments"]
        server.request("PUT", "/v2/apps/wide?force=true", json={"instances": 2})
        server.deployed("/wide")
    finally:
        server.stop()
