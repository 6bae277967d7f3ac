"""The `marathon` package from PyPI (0.13.0), unchanged, against localdcos."""

from __future__ import annotations

import json
import threading

import pytest
from marathon import MarathonClient
from marathon.exceptions import NotFoundError
from marathon.models import MarathonApp

from .conftest import wait_until


@pytest.fixture
def client(localdcos) -> MarathonClient:
    return MarathonClient(localdcos.url(), timeout=10)


def settled(client: MarathonClient, app_id: str):
    def check():
        app = client.get_app(app_id)
        running = [t for t in app.tasks if t.state == "TASK_RUNNING"]
        return app if not app.deployments and len(running) == app.instances else None

    return wait_until(check)


def test_info_reports_an_elected_marathon_1_10(client):
    info = client.get_info()
    assert info.name == "marathon"
    assert info.version.startswith("1.10.")
    assert info.elected is True
    assert client.ping().strip() in (b"pong", "pong")


def test_create_lists_exactly_one_deployment_then_runs_every_instance(client):
    app = client.create_app(
        "test-trivial-app", MarathonApp(cmd="sleep 3600", instances=5, mem=16, cpus=0.1)
    )
    assert app.id == "/test-trivial-app"
    deployments = client.list_deployments()
    assert len(deployments) == 1
    assert deployments[0].affected_apps == ["/test-trivial-app"]
    running = settled(client, "test-trivial-app")
    assert len(running.tasks) == 5
    assert running.tasks_running == 5
    assert [a.id for a in client.list_apps()] == ["/test-trivial-app"]
    assert client.list_deployments() == []


def test_an_unrunnable_complex_docker_app_is_accepted(client):
    definition = {
        "id": "test-complex-app",
        "cmd": "/bin/true",
        "instances": 1,
        "mem": 16,
        "cpus": 0.1,
        "uris": ["http://example.invalid/file.tgz"],
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": "localhost/fake_docker_url",
                "network": "BRIDGE",
                "portMappings": [
                    {"containerPort": 8888, "hostPort": 0, "servicePort": 0, "name": "web"}
                ],
            },
            "volumes": [{"hostPath": "/etc/stuff", "containerPath": "/stuff", "mode": "RW"}],
        },
        "healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0}],
    }
    # marathon 0.13.0 cannot serialise nested models on Python >= 3.10 (collections.Iterable),
    # so the definition goes through the client's own transport as JSON.
    response = client._do_request("POST", "/v2/apps", data=json.dumps(definition))
    assert response.status_code == 201
    fetched = client.get_app("test-complex-app")
    assert fetched.container.docker.image == "localhost/fake_docker_url"
    assert fetched.container.port_mappings[0].name == "web"
    assert fetched.fetch[0]["uri"] == "http://example.invalid/file.tgz"


def test_update_scale_restart_and_kills_behave_as_on_marathon(client):
    client.create_app("svc", MarathonApp(cmd="sleep 3600", instances=3, mem=16, cpus=0.1))
    first = {t.id for t in settled(client, "svc").tasks}

    client.scale_app("svc", instances=4)
    scaled = settled(client, "svc")
    assert first < {t.id for t in scaled.tasks}, "a scale keeps the running tasks"

    client.update_app("svc", MarathonApp(cmd="sleep 3601", instances=4, mem=16, cpus=0.1))
    updated = settled(client, "svc")
    assert not first & {t.id for t in updated.tasks}, "a new command replaces every task"
    assert updated.cmd == "sleep 3601"

    before_restart = {t.id for t in updated.tasks}
    client.restart_app("svc")
    restarted = settled(client, "svc")
    assert not before_restart & {t.id for t in restarted.tasks}

    victim = restarted.tasks[0].id
    client.kill_task("svc", victim, scale=True)
    after_scale_kill = settled(client, "svc")
    assert after_scale_kill.instances == 3
    assert victim not in {t.id for t in after_scale_kill.tasks}

    victim = after_scale_kill.tasks[0].id
    killed = client.kill_given_tasks([victim])
    assert killed is not None
    replaced = wait_until(
        lambda: (
            (a := client.get_app("svc"))
            and victim not in {t.id for t in a.tasks}
            and a.tasks_running == 3
            and a
        )
    )
    assert replaced.instances == 3

    killed_all = client.kill_tasks("svc", scale=False)
    assert {t.id for t in killed_all} == {t.id for t in replaced.tasks}
    assert settled(client, "svc").instances == 3

    client.kill_tasks("svc", scale=True)
    emptied = wait_until(lambda: (a := client.get_app("svc")) and not a.tasks and a)
    assert emptied.instances == 0

    client.delete_app("svc", force=True)
    wait_until(lambda: not client.list_apps() and not client.list_deployments())
    with pytest.raises(NotFoundError):
        client.get_app("svc")


def test_the_event_stream_yields_parsed_events_of_the_asked_types(client):
    wanted = [
        "event_stream_attached",
        "status_update_event",
        "deployment_success",
        "api_post_event",
    ]
    seen: list = []
    done = threading.Event()

    def read():
        for event in client.event_stream(event_types=wanted):
            seen.append(event)
            if {e.event_type for e in seen} >= set(wanted):
                done.set()
                return

    threading.Thread(target=read, daemon=True).start()
    # events before the stream attaches are not replayed, so wait for the attach event
    wait_until(lambda: any(e.event_type == "event_stream_attached" for e in seen))
    client.create_app("evented", MarathonApp(cmd="sleep 3600", instances=1, mem=16, cpus=0.1))
    assert done.wait(15), f"saw only {[e.event_type for e in seen]}"
    assert {e.event_type for e in seen} <= set(wanted)
    status = next(e for e in seen if e.event_type == "status_update_event")
    assert status.app_id == "/evented"
