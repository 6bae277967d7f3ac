"""Metronome's jobs on one cluster: job specs, runs, restart policy, history (reference §2)."""

from __future__ import annotations

import copy
import logging
import re
import secrets
import signal
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .apps import Invalid
from .tasks import HOST, Task, exit_message, signal_group

if TYPE_CHECKING:
    from .cluster import Cluster

log = logging.getLogger("localdcos.jobs")

JOB_ID_TEXT = r"^([a-z0-9]+(\-+[a-z0-9]+)*)(\.([a-z0-9]+(\-+[a-z0-9]+)*))*$"
JOB_ID = re.compile(JOB_ID_TEXT)
RESTART_POLICIES = ("NEVER", "ON_FAILURE")
CONSTRAINT_OPERATORS = ("IS", "EQ", "LIKE", "UNLIKE")
DEFAULT_KILL_GRACE_SECONDS = 3.0
# Metronome keeps this many finished runs per job in each history list (history_count)
HISTORY_COUNT = 10
NEEDS_COMMAND = "Either cmd, args, docker or ucr must be defined"


def metronome_time(moment: float | None) -> str | None:
    """Metronome's timestamps: yyyy-MM-dd'T'HH:mm:ss.SSSZ, here always in UTC (+0000)."""
    if moment is None:
        return None
    when = datetime.fromtimestamp(moment, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def new_run_id(now: float) -> str:
    """yyyyMMddHHmmss and five random alphanumerics (model/JobRunId.scala)."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
    return stamp + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in "12345")


# ---- job specs ---------------------------------------------------------------------------


def _number(details: list, path: str, value, default, minimum=None):
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool):
        details.append({"path": path, "errors": ["error.expected.jsnumber"]})
        return default
    if minimum is not None and value < minimum:
        details.append(
            {"path": path, "errors": [f"got {float(value)}, expected {float(minimum)} or more"]}
        )
    return value


def _seconds(details: list, path: str, value):
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        details.append({"path": path, "errors": [f"Can not read duration: {value!r}"]})
        return None
    return int(value)


def _strings(details: list, path: str, value, *, values_may_be_secrets: bool = False) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        details.append({"path": path, "errors": ["error.expected.jsobject"]})
        return {}
    for key, item in value.items():
        if isinstance(item, str):
            continue
        if values_may_be_secrets and isinstance(item, dict) and isinstance(item.get("secret"), str):
            continue
        details.append({"path": f"{path}/{key}", "errors": ["error.expected.jsstring"]})
    return value


def normalize_job(body, job_id: str | None = None) -> dict:
    """A job spec in Metronome's output form, defaults filled in; raises Invalid (422)."""
    if not isinstance(body, dict):
        raise Invalid([{"path": "", "errors": ["error.expected.jsobject"]}])
    details: list[dict] = []
    raw_id = job_id if job_id is not None else body.get("id")
    if raw_id is None:
        details.append({"path": "/id", "errors": ["error.path.missing"]})
    elif not isinstance(raw_id, str):
        details.append({"path": "/id", "errors": ["error.expected.jsstring"]})
    elif not JOB_ID.fullmatch(raw_id):
        details.append(
            {"path": "/id", "errors": [f"must fully match regular expression '{JOB_ID_TEXT}'"]}
        )
    job: dict = {"id": raw_id}
    description = body.get("description")
    if description is not None:
        if isinstance(description, str):
            job["description"] = description
        else:
            details.append({"path": "/description", "errors": ["error.expected.jsstring"]})
    job["labels"] = _strings(details, "/labels", body.get("labels"))
    run = body.get("run")
    if run is None:
        details.append({"path": "/run", "errors": ["error.path.missing"]})
        raise Invalid(details)
    if not isinstance(run, dict):
        details.append({"path": "/run", "errors": ["error.expected.jsobject"]})
        raise Invalid(details)
    job["run"] = _normalize_run(run, details)
    if details:
        raise Invalid(details)
    return job


def _normalize_run(run: dict, details: list) -> dict:
    spec: dict = {
        "cpus": _number(details, "/run/cpus", run.get("cpus"), 1.0, 0.01),
        "mem": _number(details, "/run/mem", run.get("mem"), 128.0, 32),
        "disk": _number(details, "/run/disk", run.get("disk"), 0.0, 0),
        "gpus": _number(details, "/run/gpus", run.get("gpus"), 0, 0),
    }
    for name in ("cmd", "user"):
        if run.get(name) is not None:
            if isinstance(run[name], str):
                spec[name] = run[name]
            else:
                details.append({"path": f"/run/{name}", "errors": ["error.expected.jsstring"]})
    args = run.get("args")
    if args is not None:
        if isinstance(args, list) and all(isinstance(a, str) for a in args):
            spec["args"] = args
        else:
            details.append({"path": "/run/args", "errors": ["error.expected.jsarray"]})
    spec["env"] = _strings(details, "/run/env", run.get("env"), values_may_be_secrets=True)
    spec["placement"] = _placement(run.get("placement"), details)
    spec["artifacts"] = _artifacts(run.get("artifacts"), details)
    spec["maxLaunchDelay"] = _seconds(details, "/run/maxLaunchDelay", run.get("maxLaunchDelay"))
    if spec["maxLaunchDelay"] is None:
        spec["maxLaunchDelay"] = 3600
    docker = run.get("docker")
    if docker is not None:
        if not isinstance(docker, dict) or not isinstance(docker.get("image"), str):
            details.append({"path": "/run/docker/image", "errors": ["error.path.missing"]})
        else:
            spec["docker"] = {
                "image": docker["image"],
                "privileged": bool(docker.get("privileged", False)),
                "parameters": docker.get("parameters") or [],
                "forcePullImage": bool(docker.get("forcePullImage", False)),
            }
    ucr = run.get("ucr")
    if ucr is not None:
        image = ucr.get("image") if isinstance(ucr, dict) else None
        if not isinstance(image, dict) or not isinstance(image.get("id"), str):
            details.append({"path": "/run/ucr/image/id", "errors": ["error.path.missing"]})
        else:
            spec["ucr"] = {
                "image": {
                    "id": image["id"],
                    "kind": image.get("kind", "docker"),
                    "forcePull": bool(image.get("forcePull", False)),
                },
                "privileged": bool(ucr.get("privileged", False)),
            }
    for name in ("volumes", "networks"):
        value = run.get(name)
        if value is not None and not isinstance(value, list):
            details.append({"path": f"/run/{name}", "errors": ["error.expected.jsarray"]})
        spec[name] = value if isinstance(value, list) else []
    spec["restart"] = _restart(run.get("restart"), details)
    grace = _seconds(
        details, "/run/taskKillGracePeriodSeconds", run.get("taskKillGracePeriodSeconds")
    )
    if grace is not None:
        spec["taskKillGracePeriodSeconds"] = grace
    spec["secrets"] = run.get("secrets") if isinstance(run.get("secrets"), dict) else {}
    if not any(k in spec for k in ("cmd", "args", "docker", "ucr")):
        details.append({"path": "/run", "errors": [NEEDS_COMMAND]})
    return spec


def _placement(placement, details: list) -> dict:
    if placement is None:
        return {"constraints": []}
    if not isinstance(placement, dict) or not isinstance(placement.get("constraints", []), list):
        details.append({"path": "/run/placement", "errors": ["error.expected.jsobject"]})
        return {"constraints": []}
    constraints = []
    for index, entry in enumerate(placement.get("constraints", [])):
        path = f"/run/placement/constraints({index})"
        if not isinstance(entry, dict) or not isinstance(entry.get("attribute"), str):
            details.append({"path": f"{path}/attribute", "errors": ["error.path.missing"]})
            continue
        if entry.get("operator") not in CONSTRAINT_OPERATORS:
            allowed = ", ".join(CONSTRAINT_OPERATORS)
            details.append(
                {
                    "path": f"{path}/operator",
                    "errors": [
                        f"'{entry.get('operator')}' is not a valid operator. "
                        f"Allowed values: {allowed}"
                    ],
                }
            )
            continue
        constraint = {"attribute": entry["attribute"], "operator": entry["operator"]}
        if isinstance(entry.get("value"), str):
            constraint["value"] = entry["value"]
        constraints.append(constraint)
    return {"constraints": constraints}


def _artifacts(artifacts, details: list) -> list[dict]:
    if artifacts is None:
        return []
    if not isinstance(artifacts, list):
        details.append({"path": "/run/artifacts", "errors": ["error.expected.jsarray"]})
        return []
    found = []
    for index, entry in enumerate(artifacts):
        if not isinstance(entry, dict) or not isinstance(entry.get("uri"), str):
            details.append(
                {"path": f"/run/artifacts({index})/uri", "errors": ["error.path.missing"]}
            )
            continue
        found.append(
            {
                "uri": entry["uri"],
                "extract": bool(entry.get("extract", True)),
                "executable": bool(entry.get("executable", False)),
                "cache": bool(entry.get("cache", False)),
            }
        )
    return found


def _restart(restart, details: list) -> dict:
    if restart is None:
        return {"policy": "NEVER"}
    if not isinstance(restart, dict):
        details.append({"path": "/run/restart", "errors": ["error.expected.jsobject"]})
        return {"policy": "NEVER"}
    policy = restart.get("policy", "NEVER")
    if policy not in RESTART_POLICIES:
        details.append(
            {
                "path": "/run/restart/policy",
                "errors": [
                    f"'{policy}' is not a valid restart policy. "
                    f"Allowed values: {', '.join(RESTART_POLICIES)}"
                ],
            }
        )
        policy = "NEVER"
    result = {"policy": policy}
    deadline = _seconds(
        details, "/run/restart/activeDeadlineSeconds", restart.get("activeDeadlineSeconds")
    )
    if deadline is not None:
        result["activeDeadlineSeconds"] = deadline
    return result


# ---- runs --------------------------------------------------------------------------------


@dataclass
class JobRun:
    job_id: str
    id: str
    spec: dict
    created_at: float
    status: str = "STARTING"
    completed_at: float | None = None
    tasks: dict[str, Task] = field(default_factory=dict)
    stop_requested: bool = False
    relaunch_at: float = 0.0

    def to_json(self, status: str | None = None) -> dict:
        return {
            "id": self.id,
            "jobId": self.job_id,
            "status": status or self.status,
            "createdAt": metronome_time(self.created_at),
            "completedAt": metronome_time(self.completed_at),
            "tasks": [task_json(t) for t in self.tasks.values()],
        }

    def live(self) -> list[Task]:
        return [t for t in self.tasks.values() if not t.finished_at]


def task_json(task: Task) -> dict:
    body = {
        "id": task.id,
        "startedAt": metronome_time(task.spawned_at or task.staged_at),
        "status": task.state,
    }
    if task.finished_at:
        body["completedAt"] = metronome_time(task.finished_at)
    return body


def empty_history() -> dict:
    return {
        "successCount": 0,
        "failureCount": 0,
        "lastSuccessAt": None,
        "lastFailureAt": None,
        "successfulFinishedRuns": [],
        "failedFinishedRuns": [],
    }


class Jobs:
    """The Metronome framework of one cluster; its tasks run on the cluster's agent."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.specs: dict[str, dict] = {}
        self.runs: dict[str, dict[str, JobRun]] = {}
        self.history: dict[str, dict] = {}

    # ---- persistence -------------------------------------------------------------------

    def load(self, record: dict) -> None:
        self.specs = record.get("jobs", {})
        self.history = record.get("history", {})
        for job_id in self.specs:
            self.runs.setdefault(job_id, {})
            self.history.setdefault(job_id, empty_history())
        # runs that were active when localdcos stopped lost their tasks with it
        for job_id, runs in record.get("activeRuns", {}).items():
            for run in runs:
                if job_id in self.history:
                    self._record_history(
                        job_id, run["id"], run["createdAt"], "FAILED", run["tasks"]
                    )

    def to_record(self) -> dict:
        return {
            "jobs": self.specs,
            "history": self.history,
            "activeRuns": {
                job_id: [
                    {"id": r.id, "createdAt": r.created_at, "tasks": list(r.tasks)}
                    for r in runs.values()
                ]
                for job_id, runs in self.runs.items()
                if runs
            },
        }

    # ---- job specs ---------------------------------------------------------------------

    def create(self, spec: dict) -> None:
        self.specs[spec["id"]] = spec
        # runs of a deleted job of the same id may still be stopping; they stay tracked
        self.runs.setdefault(spec["id"], {})
        self.history[spec["id"]] = empty_history()
        self.cluster.changed()

    def update(self, spec: dict) -> None:
        self.specs[spec["id"]] = spec
        self.cluster.changed()

    def delete(self, job_id: str) -> dict:
        for run in list(self.runs[job_id].values()):
            self.stop(run)
        spec = self.specs.pop(job_id)
        self.history.pop(job_id, None)
        self.cluster.changed()
        return spec

    # ---- runs --------------------------------------------------------------------------

    def start(self, job_id: str) -> JobRun:
        now = time.time()
        run = JobRun(job_id, new_run_id(now), copy.deepcopy(self.specs[job_id]["run"]), now)
        while run.id in self.runs[job_id]:
            run.id = new_run_id(now)
        self.runs[job_id][run.id] = run
        self.cluster.changed()
        return run

    def stop(self, run: JobRun) -> None:
        """actions/stop: kill the run's tasks; the run ends FAILED once they are gone."""
        run.stop_requested = True
        for task in run.live():
            self._kill(run, task)
        self.cluster.wake()

    def live_tasks(self) -> list[tuple[Task, float]]:
        """(task, kill grace in seconds) of every job task with a process."""
        return [
            (task, run.spec.get("taskKillGracePeriodSeconds", DEFAULT_KILL_GRACE_SECONDS))
            for runs in self.runs.values()
            for run in runs.values()
            for task in run.live()
        ]

    def stopped(self) -> None:
        """localdcos is stopping: every job task was killed."""
        for runs in self.runs.values():
            for run in runs.values():
                for task in run.live():
                    self._ended(run, task, "TASK_KILLED")

    def _kill(self, run: JobRun, task: Task) -> None:
        task.kill_requested = True
        if task.process is None:
            self._ended(run, task, "TASK_KILLED")
            return
        if task.state != "TASK_KILLING":
            task.state = "TASK_KILLING"
            signal_group(task, signal.SIGTERM)
            grace = run.spec.get("taskKillGracePeriodSeconds", DEFAULT_KILL_GRACE_SECONDS)
            task.kill_deadline = time.time() + self.cluster.scaled(grace)

    def _ended(self, run: JobRun, task: Task, state: str) -> None:
        self.cluster.task_ended(task, state, self.cluster.metronome_framework_id, run.job_id)

    def _record_history(
        self, job_id: str, run_id: str, created_at: float, status: str, task_ids: list[str]
    ) -> None:
        now = time.time()
        history = self.history[job_id]
        entry = {
            "id": run_id,
            "createdAt": metronome_time(created_at),
            "finishedAt": metronome_time(now),
            "tasks": task_ids,
        }
        if status == "SUCCESS":
            history["successCount"] += 1
            history["lastSuccessAt"] = metronome_time(now)
            runs = history["successfulFinishedRuns"]
        else:
            history["failureCount"] += 1
            history["lastFailureAt"] = metronome_time(now)
            runs = history["failedFinishedRuns"]
        runs.insert(0, entry)
        del runs[HISTORY_COUNT:]

    def _finish_run(self, run: JobRun, status: str) -> None:
        run.status = status
        run.completed_at = time.time()
        self.runs[run.job_id].pop(run.id, None)
        if run.job_id in self.history:
            self._record_history(run.job_id, run.id, run.created_at, status, list(run.tasks))
        self.cluster.changed()

    def _launch(self, run: JobRun) -> None:
        cluster = self.cluster
        # Metronome's run id as a Marathon path id, flattened: <jobId>_<runId>.<uuid>
        task = Task(
            app_id=run.job_id,
            version=metronome_time(run.created_at) or "",
            config_version="",
            ports=[],
            service_ports=[],
            id=f"{run.job_id}_{run.id}.{uuid.uuid1()}",
        )
        task.instance_id = task.id
        task.sandbox = cluster.dir / "sandboxes" / task.id
        run.tasks[task.id] = task
        run.status = "ACTIVE"
        cluster.agent.live_tasks += 1
        cluster._spawn_background(self._start(run, task))

    async def _start(self, run: JobRun, task: Task) -> None:
        spec = run.spec
        image = None
        force_pull = False
        if spec.get("docker"):
            image, force_pull = spec["docker"]["image"], spec["docker"]["forcePullImage"]
        elif spec.get("ucr"):
            image, force_pull = spec["ucr"]["image"]["id"], spec["ucr"]["image"]["forcePull"]

        def failed(text: str) -> None:
            task.message = text
            self._ended(run, task, "TASK_FAILED")
            self.cluster.wake()

        def environment() -> dict[str, str]:
            cluster = self.cluster
            env = {
                "HOST": HOST,
                "MESOS_TASK_ID": task.id,
                "MESOS_EXECUTOR_ID": task.id,
                "MESOS_FRAMEWORK_ID": cluster.metronome_framework_id,
                "MESOS_AGENT_ID": cluster.slave_id,
                "MESOS_SLAVE_ID": cluster.slave_id,
                "MESOS_CONTAINER_NAME": f"mesos-{task.container_id}",
                "MESOS_SANDBOX": str(task.sandbox),
                "MESOS_DIRECTORY": str(task.sandbox),
            }
            env.update({k: v for k, v in spec["env"].items() if isinstance(v, str)})
            return env

        started = await self.cluster.start_process(
            task, spec, image=image, force_pull=force_pull, env=environment, failed=failed
        )
        if started:
            task.state = "TASK_STARTING"
            self.cluster.wake()

    def tick(self, now: float) -> None:
        for runs in list(self.runs.values()):
            for run in list(runs.values()):
                self._advance(run, now)

    def _advance(self, run: JobRun, now: float) -> None:
        start_seconds = self.cluster.options.start_seconds
        outcome = None
        for task in run.live():
            process = task.process
            if process is None:
                continue
            returncode = process.poll()
            if returncode is not None:
                task.message = exit_message(returncode)
                if task.kill_requested:
                    state = "TASK_KILLED"
                else:
                    state = "TASK_FINISHED" if returncode == 0 else "TASK_FAILED"
                self._ended(run, task, state)
                outcome = state
            elif task.state == "TASK_STARTING" and now - task.spawned_at >= start_seconds:
                task.state = "TASK_RUNNING"
                task.started_at = now
            elif task.state == "TASK_KILLING" and now >= task.kill_deadline:
                signal_group(task, signal.SIGKILL)
        if run.live():
            return
        if outcome == "TASK_FINISHED":
            self._finish_run(run, "SUCCESS")
        elif run.stop_requested or (run.tasks and not self._may_restart(run, now)):
            self._finish_run(run, "FAILED")
        elif run.tasks and not run.relaunch_at:
            # Metronome relaunches through Marathon's launch queue: 1 s x 1.15^n, at most
            # maxLaunchDelay
            delay = min(1.15 ** min(len(run.tasks) - 1, 100), run.spec["maxLaunchDelay"])
            run.relaunch_at = now + self.cluster.scaled(delay)
        elif now < run.relaunch_at:
            return
        elif self.cluster.agent.has_capacity() and self.cluster._running:
            run.relaunch_at = 0.0
            self._launch(run)

    def _may_restart(self, run: JobRun, now: float) -> bool:
        restart = run.spec["restart"]
        if restart["policy"] != "ON_FAILURE":
            return False
        deadline = restart.get("activeDeadlineSeconds")
        return deadline is None or now < run.created_at + self.cluster.scaled(deadline)
