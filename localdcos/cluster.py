"""One local DC/OS cluster's Marathon: apps, versions, deployments, tasks, health, backoff."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import random
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import images
from .apps import (
    is_scale_only,
    maximum_capacity,
    minimum_healthy,
    port_entries,
    timestamp,
)
from .events import EventBus
from .health import http_get, probe
from .jobs import Jobs
from .tasks import (
    CONDITIONS,
    HOST,
    Task,
    command_for,
    exit_message,
    marathon_env,
    signal_group,
    spawn,
)

log = logging.getLogger("localdcos")

DEFAULT_KILL_GRACE_SECONDS = 3.0
MAX_VERSIONS = 50
# Mesos keeps this many completed tasks per framework (--max_completed_tasks_per_framework)
MAX_COMPLETED_TASKS = 1000
HOST_PORTS = range(31000, 32001)
SERVICE_PORTS = range(10000, 20001)
BASE_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR")


@dataclass
class Options:
    work_dir: Path
    registry: str | None = None
    max_tasks: int = 200
    tick: float = 0.1
    time_scale: float = 1.0
    # A process must stay up this long to count as TASK_RUNNING, so a command that dies at
    # once is a failed launch (it never reached running) rather than a finished deployment.
    start_seconds: float = 0.2


class Agent:
    """What the clusters share: the host's ports, the task limit, pulled images."""

    def __init__(self, options: Options):
        self.options = options
        self.live_tasks = 0
        self.host_ports: set[int] = set()
        self._images: dict[str, images.ImageConfig] = {}
        self.pid_file = options.work_dir / "task-pids"
        self.pids: set[int] = set()

    def has_capacity(self) -> bool:
        return self.live_tasks < self.options.max_tasks

    def take_host_ports(self, wanted: list[int]) -> list[int] | None:
        """Each 0 gets a free port from 31000-32000, as Mesos offers them; None if too few."""
        free = [p for p in HOST_PORTS if p not in self.host_ports]
        if wanted.count(0) > len(free):
            return None
        random.shuffle(free)
        ports = []
        for port in wanted:
            chosen = port or free.pop()
            self.host_ports.add(chosen)
            ports.append(chosen)
        return ports

    def release_host_ports(self, ports: list[int]) -> None:
        self.host_ports.difference_update(ports)

    async def resolve(self, image: str, force_pull: bool) -> images.ImageConfig:
        if not force_pull and image in self._images:
            return self._images[image]
        config = await asyncio.to_thread(images.resolve, self.options.registry, image)
        self._images[image] = config
        return config

    def remember_pid(self, pid: int, alive: bool) -> None:
        (self.pids.add if alive else self.pids.discard)(pid)
        self.pid_file.write_text("\n".join(str(p) for p in sorted(self.pids)))


@dataclass
class Deployment:
    app_id: str
    steps: list[str]
    original: dict | None
    target: dict | None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    version: str = field(default_factory=timestamp)
    current: int = 0

    def plan(self) -> dict:
        return {
            "id": self.id,
            "steps": [{"actions": [{"action": a, "app": self.app_id}]} for a in self.steps],
            "version": self.version,
        }

    @property
    def action(self) -> str:
        return self.steps[min(self.current, len(self.steps) - 1)]

    def to_record(self) -> dict:
        return {
            "app_id": self.app_id,
            "steps": self.steps,
            "original": self.original,
            "target": self.target,
            "id": self.id,
            "version": self.version,
            "current": self.current,
        }


@dataclass
class App:
    spec: dict
    versions: dict[str, dict] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    deployment: Deployment | None = None
    backoff_count: int = 0
    delay_until: float = 0.0
    waiting_since: float | None = None
    last_failure: dict | None = None

    @property
    def id(self) -> str:
        return self.spec["id"]

    def active_tasks(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.active]


class Cluster:
    def __init__(self, name: str, options: Options, agent: Agent):
        self.name = name
        self.options = options
        self.agent = agent
        self.apps: dict[str, App] = {}
        self.stopping: dict[str, App] = {}
        self.events = EventBus()
        self.slave_id = f"{uuid.uuid5(uuid.NAMESPACE_DNS, name)}-S0"
        self.framework_id = f"{uuid.uuid5(uuid.NAMESPACE_URL, name)}-0000"
        self.metronome_framework_id = f"{uuid.uuid5(uuid.NAMESPACE_URL, name)}-0001"
        # finished tasks as the Mesos master and agent remember them, newest last
        self.completed: dict[str, deque[dict]] = {
            self.framework_id: deque(maxlen=MAX_COMPLETED_TASKS),
            self.metronome_framework_id: deque(maxlen=MAX_COMPLETED_TASKS),
        }
        # bumped on every change a router must see (task states, readiness, app definitions)
        self.revision = 0
        self.dir = options.work_dir / name
        self.state_file = self.dir / "state.json"
        self.port = 0
        self.router_port = 0
        self._dirty = False
        self._wakeup: asyncio.Event | None = None
        self._running = True
        self._background: set[asyncio.Task] = set()
        self._last_version = 0.0
        self.jobs = Jobs(self)

    # ---- time and versions -------------------------------------------------------------

    def scaled(self, seconds: float) -> float:
        # capped so absurd durations cannot overflow the event loop's timers
        return min(float(seconds) * self.options.time_scale, 1e7)

    def new_version(self) -> str:
        """A fresh version timestamp, strictly later than the previous one."""
        now = max(time.time(), self._last_version + 0.001)
        self._last_version = now
        return timestamp(now)

    def wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def changed(self) -> None:
        self._dirty = True
        self.revision += 1
        self.wake()

    def _spawn_background(self, coroutine) -> asyncio.Task:
        job = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(job)
        job.add_done_callback(self._background.discard)
        return job

    # ---- persistence ---------------------------------------------------------------------

    def load(self) -> None:
        if not self.state_file.exists():
            return
        state = json.loads(self.state_file.read_text())
        for record in state.get("apps", []):
            app = App(spec=record["spec"], versions=record.get("versions", {}))
            app.last_failure = record.get("lastTaskFailure")
            if record.get("deployment"):
                app.deployment = Deployment(**record["deployment"])
            self.apps[app.id] = app
        for record in state.get("stopping", []):
            app = App(spec=record["spec"], versions={})
            app.deployment = Deployment(**record["deployment"])
            self.stopping[app.id] = app
        for framework_id, records in state.get("completedTasks", {}).items():
            if framework_id in self.completed:
                self.completed[framework_id].extend(records)
        self.jobs.load(state.get("metronome", {}))
        versions = [app.spec["version"] for app in self.apps.values()]
        self._last_version = time.time()
        log.info("%s: %d apps restored (%d versions)", self.name, len(self.apps), len(versions))

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        state = {
            "apps": [
                {
                    "spec": app.spec,
                    "versions": app.versions,
                    "lastTaskFailure": app.last_failure,
                    "deployment": app.deployment.to_record() if app.deployment else None,
                }
                for app in self.apps.values()
            ],
            "stopping": [
                {"spec": app.spec, "deployment": app.deployment.to_record()}
                for app in self.stopping.values()
                if app.deployment
            ],
            "completedTasks": {key: list(records) for key, records in self.completed.items()},
            "metronome": self.jobs.to_record(),
        }
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, self.state_file)
        self._dirty = False

    # ---- service ports -------------------------------------------------------------------

    def assign_service_ports(self, spec: dict, previous: dict | None) -> None:
        used = set()
        for app in self.apps.values():
            if app.id != spec["id"]:
                used.update(self._service_ports(app.spec))
        old = self._service_ports(previous) if previous else []
        entries = port_entries(spec)
        key = "port" if entries is spec["portDefinitions"] else "servicePort"
        for index, entry in enumerate(entries):
            if entry.get(key):
                continue
            if index < len(old) and old[index] and old[index] not in used:
                entry[key] = old[index]
            else:
                entry[key] = next(p for p in SERVICE_PORTS if p not in used)
            used.add(entry[key])

    @staticmethod
    def _service_ports(spec: dict) -> list[int]:
        entries = port_entries(spec)
        key = "port" if entries is spec["portDefinitions"] else "servicePort"
        return [e.get(key, 0) for e in entries]

    # ---- changes the API asks for --------------------------------------------------------

    def locking_deployments(self, app_id: str) -> list[Deployment]:
        app = self.apps.get(app_id) or self.stopping.get(app_id)
        return [app.deployment] if app and app.deployment else []

    def cancel(self, app: App, reason: str = "The upgrade has been cancelled") -> None:
        deployment = app.deployment
        if deployment is None:
            return
        app.deployment = None
        self.events.publish(
            "deployment_failed", id=deployment.id, plan=deployment.plan(), reason=reason
        )
        if deployment.action == "StopApplication" and app.id in self.stopping:
            # A stop that is cancelled outright leaves the app gone; its tasks still end.
            app.spec = {**app.spec, "instances": 0}
        self.changed()

    def _record_version(self, app: App) -> None:
        app.versions[app.spec["version"]] = copy.deepcopy(app.spec)
        while len(app.versions) > MAX_VERSIONS:
            app.versions.pop(min(app.versions))

    def _start_deployment(self, app: App, steps: list[str], original: dict | None) -> Deployment:
        deployment = Deployment(
            app_id=app.id,
            steps=steps,
            original=original,
            target=copy.deepcopy(app.spec) if steps != ["StopApplication"] else None,
            version=app.spec["version"],
        )
        app.deployment = deployment
        self.events.publish("group_change_success", groupId="/", version=deployment.version)
        self._announce_step(deployment)
        self.changed()
        return deployment

    def _announce_step(self, deployment: Deployment) -> None:
        self.events.publish(
            "deployment_info",
            plan=deployment.plan(),
            currentStep={"actions": [{"action": deployment.action, "app": deployment.app_id}]},
        )

    def create(self, spec: dict) -> Deployment:
        version = self.new_version()
        spec["version"] = version
        spec["versionInfo"] = {"lastScalingAt": version, "lastConfigChangeAt": version}
        self.assign_service_ports(spec, None)
        app = App(spec=spec)
        self.apps[app.id] = app
        self._record_version(app)
        return self._start_deployment(app, ["StartApplication", "ScaleApplication"], None)

    def update(self, app: App, spec: dict, *, restart: bool = False) -> Deployment:
        """A new version of an existing app: a scale if only instances changed, else a restart."""
        original = copy.deepcopy(app.spec)
        version = self.new_version()
        self.assign_service_ports(spec, original)
        comparable_old = {k: v for k, v in original.items() if k not in ("version", "versionInfo")}
        scale_only = not restart and is_scale_only(comparable_old, spec)
        spec["version"] = version
        info = dict(original["versionInfo"])
        info["lastScalingAt"] = version
        if not scale_only:
            info["lastConfigChangeAt"] = version
            app.backoff_count = 0
            app.delay_until = 0.0
        spec["versionInfo"] = info
        app.spec = spec
        self._record_version(app)
        steps = ["ScaleApplication"] if scale_only else ["RestartApplication"]
        return self._start_deployment(app, steps, original)

    def delete(self, app: App) -> Deployment:
        del self.apps[app.id]
        self.stopping[app.id] = app
        app.spec = {**app.spec, "version": self.new_version()}
        return self._start_deployment(app, ["StopApplication"], copy.deepcopy(app.spec))

    def revert(self, app: App) -> Deployment:
        """DELETE /v2/deployments/{id} without force: cancel, then deploy the way back."""
        deployment = app.deployment
        assert deployment is not None
        self.cancel(app)
        if deployment.original is None:
            return self.delete(app)
        original = {
            k: v for k, v in deployment.original.items() if k not in ("version", "versionInfo")
        }
        if app.id in self.stopping:
            del self.stopping[app.id]
            self.apps[app.id] = app
        return self.update(app, original)

    def kill(self, app: App, task: Task, reason: str = "") -> None:
        if not task.active:
            return
        task.kill_requested = True
        task.message = reason
        if task.process is None:
            self._finish(app, task, "TASK_KILLED")
            return
        task.state = "TASK_KILLING"
        self._publish_status(task)
        signal_group(task, signal.SIGTERM)
        grace = app.spec.get("taskKillGracePeriodSeconds", DEFAULT_KILL_GRACE_SECONDS)
        task.kill_deadline = time.time() + self.scaled(grace)
        self.wake()

    def reset_delay(self, app: App) -> None:
        app.backoff_count = 0
        app.delay_until = 0.0
        self.wake()

    # ---- task lifecycle ------------------------------------------------------------------

    def _publish_status(self, task: Task) -> None:
        self.revision += 1
        self.events.publish(
            "status_update_event",
            slaveId=self.slave_id,
            taskId=task.id,
            taskStatus=task.state,
            message=task.message,
            appId=task.app_id,
            host=HOST,
            ipAddresses=[{"ipAddress": HOST, "protocol": "IPv4"}],
            ports=task.ports,
            version=task.version,
        )
        self.events.publish(
            "instance_changed_event",
            instanceId=task.instance_id,
            condition=CONDITIONS.get(task.state, "Unknown"),
            runSpecId=task.app_id,
            agentId=self.slave_id,
            host=HOST,
            runSpecVersion=task.version,
        )

    def _launch(self, app: App) -> bool:
        spec = app.spec
        entries = port_entries(spec)
        if entries is spec["portDefinitions"]:
            wanted = [e["port"] if spec["requirePorts"] else 0 for e in entries]
            service_ports = [e["port"] for e in entries]
        else:
            wanted = [e.get("hostPort", 0) for e in entries]
            service_ports = [e.get("servicePort", 0) for e in entries]
        ports = self.agent.take_host_ports(wanted)
        if ports is None:
            return False  # no offer has enough ports; the launch waits, as on Mesos
        task = Task(
            app_id=app.id,
            version=spec["version"],
            config_version=spec["versionInfo"]["lastConfigChangeAt"],
            ports=ports,
            service_ports=service_ports,
        )
        task.health = [None] * len(spec["healthChecks"])
        task.sandbox = self.dir / "sandboxes" / task.id
        app.tasks[task.id] = task
        self.agent.live_tasks += 1
        self._publish_status(task)
        self._spawn_background(self._start(app, task, copy.deepcopy(spec)))
        return True

    async def _start(self, app: App, task: Task, spec: dict) -> None:
        docker = (spec.get("container") or {}).get("docker")
        image = None
        if spec.get("container", {}).get("type", "DOCKER") == "DOCKER" and docker:
            image = docker["image"]

        def failed(text: str) -> None:
            task.message = text
            self._finish(app, task, "TASK_FAILED")

        assert task.sandbox is not None
        started = await self.start_process(
            task,
            spec,
            image=image,
            force_pull=bool(docker and docker["forcePullImage"]),
            env=lambda: {
                **marathon_env(spec, task, task.sandbox),
                **{k: v for k, v in spec["env"].items() if isinstance(v, str)},
            },
            failed=failed,
        )
        if started:
            task.state = "TASK_STARTING"
            self._publish_status(task)

    async def start_process(
        self,
        task: Task,
        command: dict,
        *,
        image: str | None,
        force_pull: bool,
        env: Callable[[], dict[str, str]],
        failed: Callable[[str], None],
    ) -> bool:
        """Pull the image, make the sandbox and spawn the command there, as a Mesos agent does.

        `command` holds cmd or args; `env` gives the scheduler's variables, which sit above the
        image's; a launch that cannot happen is reported through `failed`.
        """
        config = None
        if image:
            try:
                config = await self.agent.resolve(image, force_pull)
            except images.ImageError as error:
                failed(f"Failed to launch container: {error}")
                return False
        if task.state != "TASK_STAGING" or not self._running:
            return False
        argv = command_for(command, config)
        if not argv:
            failed("Failed to launch container: no command given")
            return False
        assert task.sandbox is not None
        task.sandbox.mkdir(parents=True, exist_ok=True)
        environment = {k: os.environ[k] for k in BASE_ENV_KEYS if k in os.environ}
        if config:
            environment.update(line.partition("=")[::2] for line in config.env)
        environment.update(env())
        task.env = environment
        cwd = task.sandbox
        if config and config.working_dir:
            cwd = Path(config.working_dir)
            if not cwd.is_dir():
                # The image's WorkingDir does not exist on this host: make it inside the sandbox.
                cwd = task.sandbox / config.working_dir.lstrip("/")
                cwd.mkdir(parents=True, exist_ok=True)
        try:
            spawn(task, argv, environment, cwd)
        except (OSError, ValueError) as error:
            failed(f"Failed to launch container: {error}")
            return False
        assert task.process is not None
        self.agent.remember_pid(task.process.pid, alive=True)
        self._watch_exit(task)
        return True

    def _watch_exit(self, task: Task) -> None:
        """Wake the scheduler the moment the process exits (pidfd), not at the next tick."""
        assert task.process is not None
        try:
            descriptor = os.pidfd_open(task.process.pid)
        except (AttributeError, OSError):
            return
        loop = asyncio.get_running_loop()

        def exited() -> None:
            loop.remove_reader(descriptor)
            os.close(descriptor)
            self.wake()

        loop.add_reader(descriptor, exited)

    def task_ended(self, task: Task, state: str, framework_id: str, name: str) -> None:
        """Agent bookkeeping for a task that reached a terminal state, in either framework."""
        task.state = state
        task.finished_at = time.time()
        for watcher in task.watchers:
            watcher.cancel()
        self.agent.live_tasks -= 1
        self.agent.release_host_ports(task.ports)
        if task.process is not None:
            self.agent.remember_pid(task.process.pid, alive=False)
        self.completed[framework_id].append(
            {**self.mesos_task(task, framework_id, name), "finished_at": task.finished_at}
        )
        self._dirty = True

    def mesos_task(self, task: Task, framework_id: str, name: str) -> dict:
        """What the Mesos master and agent know of a task (the command executor's id is the
        task's)."""
        return {
            "id": task.id,
            "name": name,
            "framework_id": framework_id,
            "executor_id": task.id,
            "slave_id": self.slave_id,
            "state": task.state,
            "container": task.container_id,
            "sandbox": str(task.sandbox) if task.sandbox else "",
            "started_at": task.spawned_at or task.staged_at,
        }

    def _finish(self, app: App, task: Task, state: str) -> None:
        """A task reached a terminal state: forget it, record failures, back off."""
        app.tasks.pop(task.id, None)
        self.task_ended(task, state, self.framework_id, task_name(app.id))
        self._publish_status(task)
        if state in ("TASK_FAILED", "TASK_FINISHED"):
            app.last_failure = {
                "appId": app.id,
                "host": HOST,
                "message": task.message,
                "state": state,
                "taskId": task.id,
                "timestamp": timestamp(),
                "version": task.version,
                "slaveId": self.slave_id,
            }
            spec = app.spec
            try:
                delay = min(
                    spec["backoffSeconds"] * spec["backoffFactor"] ** app.backoff_count,
                    spec["maxLaunchDelaySeconds"],
                )
            except OverflowError:
                delay = spec["maxLaunchDelaySeconds"]
            app.backoff_count += 1
            app.delay_until = time.time() + self.scaled(delay)
            self._dirty = True
        self.wake()

    def _check_processes(self, app: App, now: float) -> None:
        for task in list(app.tasks.values()):
            process = task.process
            if process is None:
                continue
            returncode = process.poll()
            if returncode is not None:
                if task.kill_requested:
                    self._finish(app, task, "TASK_KILLED")
                else:
                    task.message = exit_message(returncode)
                    self._finish(app, task, "TASK_FINISHED" if returncode == 0 else "TASK_FAILED")
            elif (
                task.state == "TASK_STARTING"
                and now - task.spawned_at >= self.options.start_seconds
            ):
                task.state = "TASK_RUNNING"
                task.started_at = now
                self._publish_status(task)
                self._start_watchers(app, task)
            elif task.state == "TASK_KILLING" and now >= task.kill_deadline:
                signal_group(task, signal.SIGKILL)

    # ---- health and readiness ------------------------------------------------------------

    def _start_watchers(self, app: App, task: Task) -> None:
        for index, check in enumerate(app.spec["healthChecks"]):
            task.watchers.append(self._spawn_background(self._health_loop(app, task, index, check)))
        for check in app.spec["readinessChecks"]:
            task.watchers.append(self._spawn_background(self._readiness_loop(app, task, check)))

    async def _health_loop(self, app: App, task: Task, index: int, check: dict) -> None:
        interval = max(self.scaled(check["intervalSeconds"]), 0.02)
        timeout = max(self.scaled(check["timeoutSeconds"]), 0.05)
        grace = self.scaled(check["gracePeriodSeconds"])
        await asyncio.sleep(min(interval, self.scaled(1.0)))
        while task.state == "TASK_RUNNING":
            passed, cause = await probe(check, task, timeout)
            if task.state != "TASK_RUNNING":
                return
            self._health_result(app, task, index, check, passed, cause, grace)
            await asyncio.sleep(interval)

    def _health_result(
        self, app: App, task: Task, index: int, check: dict, passed: bool, cause: str, grace: float
    ) -> None:
        now = time.time()
        result = task.health[index] or {
            "alive": False,
            "consecutiveFailures": 0,
            "firstSuccess": None,
            "lastFailure": None,
            "lastSuccess": None,
            "lastFailureCause": None,
            "instanceId": task.instance_id,
        }
        was_alive = task.alive
        if passed:
            result.update(alive=True, consecutiveFailures=0, lastSuccess=timestamp(now))
            result["firstSuccess"] = result["firstSuccess"] or timestamp(now)
        else:
            if result["firstSuccess"] is None and now < task.started_at + grace:
                return  # failures inside the grace period before a first success are ignored
            previous = result["consecutiveFailures"]
            result.update(
                alive=False,
                consecutiveFailures=previous + 1,
                lastFailure=timestamp(now),
                lastFailureCause=cause,
            )
            self.events.publish(
                "failed_health_check_event", appId=app.id, taskId=task.id, healthCheck=check
            )
        task.health[index] = result
        if task.alive != was_alive:
            self.events.publish(
                "health_status_changed_event",
                appId=app.id,
                instanceId=task.instance_id,
                version=task.version,
                alive=bool(task.alive),
            )
            self.events.publish(
                "instance_health_changed_event",
                instanceId=task.instance_id,
                runSpecId=app.id,
                healthy=task.alive,
                runSpecVersion=task.version,
            )
            self.wake()
        if passed:
            return
        limit = check["maxConsecutiveFailures"]
        if check["protocol"] in ("COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"):
            kill = result["consecutiveFailures"] > limit or limit == 0
        else:
            kill = limit > 0 and previous >= limit
        if kill:
            reason = f"{check['protocol']} health check failed"
            self.events.publish(
                "unhealthy_instance_kill_event",
                appId=app.id,
                taskId=task.id,
                instanceId=task.instance_id,
                version=task.version,
                reason=reason,
                host=HOST,
                slaveId=self.slave_id,
            )
            self.kill(app, task, reason)

    async def _readiness_loop(self, app: App, task: Task, check: dict) -> None:
        names = [e.get("name") for e in port_entries(app.spec)]
        port = task.ports[names.index(check["portName"])]
        interval = max(self.scaled(check["intervalSeconds"]), 0.02)
        timeout = max(self.scaled(check["timeoutSeconds"]), 0.05)
        while task.state == "TASK_RUNNING":
            result = {"name": check["name"], "taskId": task.id, "ready": False}
            try:
                status, content_type, body = await http_get(
                    port, check["path"], timeout, check["protocol"] == "HTTPS"
                )
                result["ready"] = status in check["httpStatusCodesForReady"]
                if check["preserveLastResponse"]:
                    result["lastResponse"] = {
                        "status": status,
                        "contentType": content_type,
                        "body": body.decode("utf-8", "replace"),
                    }
            except (OSError, TimeoutError, ValueError, IndexError):
                pass
            task.readiness[check["name"]] = result
            if result["ready"]:
                self.revision += 1
                self.wake()
                return
            await asyncio.sleep(interval)

    # ---- the scheduler -------------------------------------------------------------------

    def task_ok(self, spec: dict, task: Task) -> bool:
        if task.state != "TASK_RUNNING":
            return False
        if spec["healthChecks"] and task.alive is not True:
            return False
        return task.is_ready(spec["readinessChecks"])

    def _can_launch(self, app: App, now: float) -> bool:
        return now >= app.delay_until and self.agent.has_capacity()

    def _kill_order(self, spec: dict, tasks: list[Task]) -> list[Task]:
        youngest_first = spec["killSelection"] == "YOUNGEST_FIRST"
        return sorted(tasks, key=lambda t: t.staged_at, reverse=youngest_first)

    def _reconcile(self, app: App, now: float) -> None:
        spec = app.spec
        deployment = app.deployment
        action = deployment.action if deployment else None
        active = app.active_tasks()
        if app.id in self.stopping:
            for task in active:
                self.kill(app, task)
            if not app.tasks:
                del self.stopping[app.id]
                if deployment:
                    self._step_done(app, deployment)
                self.events.publish("app_terminated_event", appId=app.id)
                self.changed()
            return
        if action == "StartApplication":
            self._step_done(app, deployment)
            return
        current = spec["versionInfo"]["lastConfigChangeAt"]
        done = False
        if action == "RestartApplication":
            old = [t for t in active if t.config_version != current]
            new = [t for t in active if t.config_version == current]
            healthy_new = [t for t in new if self.task_ok(spec, t)]
            least = minimum_healthy(spec)
            most = maximum_capacity(spec)
            if least == most and most <= len(old):
                most += 1  # Marathon lets one more start so the upgrade can move at all
            for task in self._kill_order(spec, old):
                if len(old) - 1 + len(healthy_new) < least:
                    break
                self.kill(app, task)
                old.remove(task)
            while (
                len(new) < spec["instances"]
                and len(old) + len(new) < most
                and self._can_launch(app, now)
            ):
                if not self._launch(app):
                    break
                new = [t for t in app.active_tasks() if t.config_version == current]
            for task in self._kill_order(spec, new)[: max(0, len(new) - spec["instances"])]:
                self.kill(app, task)
            # as TaskReplaceActor, the step ends when the old tasks are gone, not just told to go
            done = (
                not old
                and len(healthy_new) == spec["instances"] == len(new)
                and not any(t.state == "TASK_KILLING" for t in app.tasks.values())
            )
        else:
            missing = spec["instances"] - len(active)
            while missing > 0 and self._can_launch(app, now):
                if not self._launch(app):
                    break
                missing -= 1
            if action == "ScaleApplication" and missing < 0:
                for task in self._kill_order(spec, active)[:-missing]:
                    self.kill(app, task)
            if action == "ScaleApplication":
                active = app.active_tasks()
                done = (
                    len(active) == spec["instances"]
                    and all(
                        self.task_ok(spec, t)
                        if t.config_version == current
                        else t.state == "TASK_RUNNING"
                        for t in active
                    )
                    and not any(t.state == "TASK_KILLING" for t in app.tasks.values())
                )
        waiting = spec["instances"] > len(app.active_tasks())
        if waiting and app.waiting_since is None:
            app.waiting_since = now
        elif not waiting:
            app.waiting_since = None
        if done and deployment:
            self._step_done(app, deployment)

    def _step_done(self, app: App, deployment: Deployment) -> None:
        self.events.publish(
            "deployment_step_success",
            plan=deployment.plan(),
            currentStep={"actions": [{"action": deployment.action, "app": app.id}]},
        )
        deployment.current += 1
        if deployment.current >= len(deployment.steps):
            app.deployment = None
            self.events.publish("deployment_success", id=deployment.id, plan=deployment.plan())
        else:
            self._announce_step(deployment)
        self.changed()

    def tick(self) -> None:
        now = time.time()
        for app in list(self.apps.values()) + list(self.stopping.values()):
            try:
                self._check_processes(app, now)
                self._reconcile(app, now)
            except Exception:
                # one app's trouble must not stop the scheduler for the others
                log.exception("%s: scheduling %s failed", self.name, app.id)
        try:
            self.jobs.tick(now)
        except Exception:
            log.exception("%s: scheduling jobs failed", self.name)

    async def run(self) -> None:
        self._wakeup = asyncio.Event()
        while self._running:
            try:
                self.tick()
            except Exception:
                log.exception("%s: scheduler step failed", self.name)
            if self._dirty:
                self.save()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.options.tick)
            self._wakeup.clear()

    async def stop(self, budget: float = 10.0) -> None:
        """Every task ends: SIGTERM to each process group, SIGKILL after its grace period."""
        self._running = False
        tasks: list[tuple[App | None, Task, float]] = [
            (app, t, app.spec.get("taskKillGracePeriodSeconds", DEFAULT_KILL_GRACE_SECONDS))
            for app in list(self.apps.values()) + list(self.stopping.values())
            for t in app.tasks.values()
        ]
        tasks += [(None, task, grace) for task, grace in self.jobs.live_tasks()]
        now = time.time()
        deadlines = {}
        for _, task, grace in tasks:
            task.kill_requested = True
            signal_group(task, signal.SIGTERM)
            deadlines[task.id] = now + min(self.scaled(grace), budget)
        while True:
            alive = [t for _, t, _ in tasks if t.process and t.process.poll() is None]
            if not alive:
                break
            now = time.time()
            for task in alive:
                if now >= deadlines[task.id]:
                    signal_group(task, signal.SIGKILL)
            await asyncio.sleep(0.02)
        for app, task, _ in tasks:
            # whatever else the task started in its process group ends with it
            signal_group(task, signal.SIGKILL)
            if app is not None and task.id in app.tasks:
                self._finish(app, task, "TASK_KILLED")
        self.jobs.stopped()
        for job in list(self._background):
            job.cancel()
        self.save()


def task_name(app_id: str) -> str:
    """Marathon names a Mesos task after the app id as a host name: /dev/hello -> hello.dev."""
    return ".".join(reversed([s for s in app_id.split("/") if s]))
