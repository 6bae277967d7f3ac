"""Tasks are real processes with Marathon's environment; localdcos restarts keep apps."""

from __future__ import annotations

import os
import signal

from .conftest import LocalDcos, pids_in, wait_until


def read_env(path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_a_task_runs_in_its_sandbox_with_marathons_environment(localdcos):
    localdcos.create(
        {
            "id": "/dev/envy",
            "cmd": "env > env.txt; echo to-stdout; echo to-stderr >&2; exec sleep 3600",
            "cpus": 0.25,
            "mem": 64,
            "portDefinitions": [{"port": 0, "name": "http"}, {"port": 0}],
            "labels": {"team.name": "shop", "HAPROXY_GROUP": "external"},
            "env": {"GREETING": "hi"},
        }
    )
    app = localdcos.deployed("/dev/envy")
    (task,) = app["tasks"]
    sandbox = localdcos.work_dir / "dev" / "sandboxes" / task["id"]
    env = wait_until(lambda: (sandbox / "env.txt").exists() and read_env(sandbox / "env.txt"))
    assert env["MESOS_TASK_ID"] == task["id"]
    assert env["MESOS_SANDBOX"] == str(sandbox)
    assert env["MARATHON_APP_ID"] == "/dev/envy"
    assert env["MARATHON_APP_VERSION"] == app["version"]
    assert env["MARATHON_APP_RESOURCE_CPUS"] == "0.25"
    assert env["MARATHON_APP_RESOURCE_MEM"] == "64.0"
    assert env["HOST"] == task["host"]
    assert env["PORT0"] == env["PORT"] == env["PORT_HTTP"] == str(task["ports"][0])
    assert env["PORT1"] == str(task["ports"][1])
    assert env["PORTS"] == ",".join(str(p) for p in task["ports"])
    assert set(env["MARATHON_APP_LABELS"].split()) == {"TEAM_NAME", "HAPROXY_GROUP"}
    assert env["MARATHON_APP_LABEL_TEAM_NAME"] == "shop"
    assert env["GREETING"] == "hi"
    wait_until(lambda: (sandbox / "stderr").read_text() == "to-stderr\n")
    assert (sandbox / "stdout").read_text() == "to-stdout\n"
    (pid,) = pids_in(sandbox)
    assert os.getpgid(pid) == pid, "each task leads its own process group"


def test_a_kill_sends_sigterm_shows_task_killing_then_sigkills_after_the_grace_period(localdcos):
    localdcos.create(
        {
            "id": "stubborn",
            "cmd": "trap 'echo got-term' TERM; while true; do sleep 0.05; done",
            "taskKillGracePeriodSeconds": 30,
        }
    )
    (task_id,) = wait_until(lambda: localdcos.running_task_ids("/stubborn"))
    response = localdcos.request("DELETE", f"/v2/apps/stubborn/tasks/{task_id}")
    assert response.status_code == 200 and response.json()["task"]["id"] == task_id
    states = {t["id"]: t["state"] for t in localdcos.app("/stubborn")["tasks"]}
    assert states[task_id] == "TASK_KILLING"
    wait_until(lambda: task_id not in {t["id"] for t in localdcos.app("/stubborn")["tasks"]})
    stdout = localdcos.work_dir / "dev" / "sandboxes" / task_id / "stdout"
    assert "got-term" in stdout.read_text()


def test_stopping_localdcos_ends_every_task_it_started(localdcos):
    localdcos.create({"id": "many", "cmd": "sleep 3600 & sleep 3600", "instances": 3})
    localdcos.deployed("/many")
    assert len(pids_in(localdcos.work_dir)) >= 6
    localdcos.stop()
    assert pids_in(localdcos.work_dir) == []


def test_a_restarted_localdcos_keeps_apps_and_launches_their_tasks_again(tmp_path):
    first = LocalDcos(tmp_path / "state").start()
    try:
        first.create({"id": "/dev/keep", "cmd": "sleep 3600", "instances": 2, "labels": {"a": "b"}})
        before = first.deployed("/dev/keep")
        old_tasks = first.running_task_ids("/dev/keep")
    finally:
        first.stop()
    second = LocalDcos(tmp_path / "state").start()
    try:
        after = wait_until(lambda: (a := second.app("/dev/keep")) and a["tasksRunning"] == 2 and a)
        assert after["version"] == before["version"]
        assert after["labels"] == {"a": "b"}
        assert second.get("/v2/apps/dev/keep/versions").json()["versions"] == [before["version"]]
        assert not old_tasks & second.running_task_ids("/dev/keep")
    finally:
        second.stop()


def test_tasks_of_a_killed_localdcos_do_not_outlive_it(tmp_path):
    server = LocalDcos(tmp_path / "state").start()
    server.create({"id": "orphan", "cmd": "sleep 3600", "instances": 2})
    server.deployed("/orphan")
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    wait_until(lambda: pids_in(server.work_dir) == [], timeout=10)
