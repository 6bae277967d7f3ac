"""GET /v2/events: server-sent events with Marathon's names and fields."""

from __future__ import annotations

import json
import threading

import requests

from .conftest import wait_until

STATUS_FIELDS = {
    "slaveId",
    "taskId",
    "taskStatus",
    "message",
    "appId",
    "host",
    "ipAddresses",
    "ports",
    "version",
    "eventType",
    "timestamp",
}


def listen(url: str, query: str = "") -> tuple[list[tuple[str, dict]], requests.Response]:
    response = requests.get(
        f"{url}/v2/events{query}", headers={"Accept": "text/event-stream"}, stream=True, timeout=30
    )
    events: list[tuple[str, dict]] = []

    def read():
        name = None
        try:
            for line in response.iter_lines():
                text = line.decode()
                if text.startswith("event: "):
                    name = text[len("event: ") :]
                elif text.startswith("data: "):
                    events.append((name, json.loads(text[len("data: ") :])))
        except (requests.RequestException, AttributeError, ValueError):
            return

    threading.Thread(target=read, daemon=True).start()
    return events, response


def test_the_stream_needs_the_event_stream_accept_header(localdcos):
    assert localdcos.get("/v2/events").status_code == 405


def test_the_stream_starts_attached_and_carries_a_deployments_events(localdcos):
    events, _ = listen(localdcos.url())
    wait_until(lambda: events)
    assert events[0][0] == "event_stream_attached"
    localdcos.create({"id": "ev", "cmd": "sleep 3600"})
    localdcos.deployed("/ev")
    wait_until(lambda: "deployment_success" in {name for name, _ in events})
    names = [name for name, _ in events]
    for expected in (
        "api_post_event",
        "group_change_success",
        "deployment_info",
        "deployment_step_success",
        "status_update_event",
        "instance_changed_event",
    ):
        assert expected in names
    status = next(data for name, data in events if name == "status_update_event")
    assert set(status) == STATUS_FIELDS
    info = next(data for name, data in events if name == "deployment_info")
    assert set(info["plan"]) == {"id", "steps", "version"}
    assert all(data["eventType"] == name for name, data in events)


def test_event_type_filters_the_stream(localdcos):
    events, _ = listen(localdcos.url(), "?event_type=app_terminated_event")
    localdcos.create({"id": "gone", "cmd": "sleep 3600"})
    localdcos.deployed("/gone")
    localdcos.request("DELETE", "/v2/apps/gone")
    wait_until(lambda: events)
    assert [name for name, _ in events] == ["app_terminated_event"]
    assert events[0][1]["appId"] == "/gone"


def test_health_events_follow_a_failing_check_to_its_kill(localdcos):
    events, _ = listen(localdcos.url())
    wait_until(lambda: events)
    localdcos.create(
        {
            "id": "sick",
            "container": {"type": "DOCKER", "docker": {"image": "spinui/hello:v1"}},
            "env": {"FAIL_HEALTH": "1"},
            "healthChecks": [
                {
                    "path": "/health",
                    "gracePeriodSeconds": 0,
                    "intervalSeconds": 1,
                    "maxConsecutiveFailures": 1,
                }
            ],
        }
    )
    wait_until(lambda: "unhealthy_instance_kill_event" in {n for n, _ in events})
    names = {n for n, _ in events}
    assert {"failed_health_check_event", "health_status_changed_event"} <= names
    kill = next(d for n, d in events if n == "unhealthy_instance_kill_event")
    assert set(kill) == {
        "appId",
        "taskId",
        "instanceId",
        "version",
        "reason",
        "host",
        "slaveId",
        "eventType",
        "timestamp",
    }
