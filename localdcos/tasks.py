"""Tasks as local processes: sandbox, Marathon's environment, process groups, kills."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import images
from .apps import port_entries, timestamp

HOST = "127.0.0.1"
ACTIVE = ("TASK_STAGING", "TASK_STARTING", "TASK_RUNNING")
CONDITIONS = {
    "TASK_STAGING": "Staging",
    "TASK_STARTING": "Starting",
    "TASK_RUNNING": "Running",
    "TASK_KILLING": "Killing",
    "TASK_KILLED": "Killed",
    "TASK_FINISHED": "Finished",
    "TASK_FAILED": "Failed",
}
LABEL_KEY_JUNK = re.compile(r"[^a-zA-Z0-9_]+")


@dataclass
class Task:
    app_id: str
    version: str
    config_version: str
    ports: list[int]
    service_ports: list[int]
    instance_id: str = ""
    id: str = ""
    state: str = "TASK_STAGING"
    staged_at: float = field(default_factory=time.time)
    spawned_at: float = 0.0
    started_at: float = 0.0
    sandbox: Path | None = None
    process: subprocess.Popen | None = None
    env: dict[str, str] = field(default_factory=dict)
    health: list[dict | None] = field(default_factory=list)
    readiness: dict[str, dict] = field(default_factory=dict)
    kill_requested: bool = False
    kill_deadline: float = 0.0
    message: str = ""
    watchers: list[asyncio.Task] = field(default_factory=list)
    # the Mesos container id of the task's run; its sandbox path in Mesos's layout ends with it
    container_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    finished_at: float = 0.0

    def __post_init__(self) -> None:
        if not self.id:
            base = self.app_id.strip("/").replace("/", "_")
            self.instance_id = f"{base}.instance-{uuid.uuid4()}"
            self.id = f"{self.instance_id}._app.1"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def alive(self) -> bool | None:
        """True when every health check's last result passed; None before any result."""
        results = [r for r in self.health if r is not None]
        if any(not r["alive"] for r in results):
            return False
        if not self.health or len(results) < len(self.health):
            return None
        return True

    def is_ready(self, checks: list[dict]) -> bool:
        return all(self.readiness.get(c["name"], {}).get("ready") for c in checks)

    def to_json(self, slave_id: str, role: str) -> dict:
        body = {
            "appId": self.app_id,
            "healthCheckResults": [r for r in self.health if r is not None],
            "host": HOST,
            "id": self.id,
            "ipAddresses": [{"ipAddress": HOST, "protocol": "IPv4"}],
            "ports": self.ports,
            "servicePorts": self.service_ports,
            "slaveId": slave_id,
            "stagedAt": timestamp(self.staged_at),
            "state": self.state,
            "version": self.version,
            "localVolumes": [],
            "role": role,
        }
        if self.started_at:
            body["startedAt"] = timestamp(self.started_at)
        return body


def marathon_env(spec: dict, task: Task, sandbox: Path) -> dict[str, str]:
    """What Marathon and Mesos put in a task's environment (TaskBuilder, EnvironmentHelper)."""
    env = {
        "HOST": HOST,
        "MESOS_TASK_ID": task.id,
        "MESOS_SANDBOX": str(sandbox),
        "MESOS_DIRECTORY": str(sandbox),
        "MARATHON_APP_ID": spec["id"],
        "MARATHON_APP_VERSION": spec["version"],
        "MARATHON_APP_RESOURCE_CPUS": str(float(spec["cpus"])),
        "MARATHON_APP_RESOURCE_MEM": str(float(spec["mem"])),
        "MARATHON_APP_RESOURCE_DISK": str(float(spec["disk"])),
        "MARATHON_APP_RESOURCE_GPUS": str(int(spec["gpus"])),
        "MARATHON_APP_ENFORCE_GROUP_ROLE": "false",
    }
    image = (spec.get("container") or {}).get("docker", {}).get("image")
    if image:
        env["MARATHON_APP_DOCKER_IMAGE"] = image
    if task.ports:
        env["PORTS"] = ",".join(str(p) for p in task.ports)
        env["PORT"] = str(task.ports[0])
    for index, (port, entry) in enumerate(zip(task.ports, port_entries(spec), strict=False)):
        env[f"PORT{index}"] = str(port)
        if entry.get("name"):
            env[f"PORT_{entry['name'].upper()}"] = str(port)
        requested = entry.get("containerPort") or entry.get("port")
        if requested:
            env[f"PORT_{requested}"] = str(port)
    keys = []
    for key, value in spec["labels"].items():
        if len(value) >= 512:
            continue
        clean = LABEL_KEY_JUNK.sub("_", key).upper()
        env[f"MARATHON_APP_LABEL_{clean}"] = value
        keys.append(clean)
    env["MARATHON_APP_LABELS"] = " ".join(keys)
    return env


def command_for(spec: dict, config: images.ImageConfig | None) -> list[str]:
    """Docker's rules: cmd runs under /bin/sh -c; args replace the image's Cmd."""
    if spec.get("cmd"):
        return ["/bin/sh", "-c", spec["cmd"]]
    if config is None:
        return list(spec.get("args") or [])
    if spec.get("args"):
        return config.entrypoint + list(spec["args"])
    return config.entrypoint + config.cmd


def spawn(task: Task, argv: list[str], env: dict[str, str], cwd: Path) -> None:
    assert task.sandbox is not None
    stdout = open(task.sandbox / "stdout", "ab")  # noqa: SIM115 - the child owns it
    stderr = open(task.sandbox / "stderr", "ab")  # noqa: SIM115
    try:
        task.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    finally:
        stdout.close()
        stderr.close()
    task.spawned_at = time.time()


def signal_group(task: Task, signum: int) -> None:
    if task.process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(task.process.pid, signum)


def exit_message(returncode: int) -> str:
    if returncode < 0:
        return f"Command terminated with signal {signal.Signals(-returncode).name}"
    return f"Command exited with status {returncode}"
