"""Metronome v1 jobs and runs, and files of a job task's Mesos sandbox (reference §1.6, §2).

A Run Job description (Deck's and clouddriver's fields) becomes a Metronome job spec here; the
client creates or updates the job, starts and stops runs, and reads a run's outcome from
`GET /v1/jobs/{id}?embed=activeRuns&embed=history` (a finished run is only in the history).
A task's sandbox is found as Spinnaker's DcosJobProvider found it: the master's state names
the task's agent and framework, the agent's state names its directory, and the agent's files
API reads the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from providers.dcos.auth import auth_for
from providers.dcos.config import RegionConfig
from providers.dcos.operations import DescriptionError, image_of
from providers.dcos.transport import NotFound, Transport

# Metronome's job id (api/.../v1/models/package.scala): dot-separated segments, no slashes.
JOB_ID = re.compile(r"([a-z0-9]+(-+[a-z0-9]+)*)(\.([a-z0-9]+(-+[a-z0-9]+)*))*")
RESTART_POLICIES = ("NEVER", "ON_FAILURE")
CONSTRAINT_OPERATORS = ("IS", "EQ", "LIKE", "UNLIKE")
SUCCESS, FAILED = "SUCCESS", "FAILED"
EMBEDS = ("activeRuns", "history")
MESOS_STATE = "/mesos/state.json"
# The agent serves at most 64 KiB per files/read (src/files/files.cpp).
READ_CHUNK = 64 * 1024
PROPERTY_FILE_LIMIT = 1024 * 1024


def job_id_error(job_id: Any) -> str:
    """Why Metronome would refuse JOB_ID, or ""."""
    if not isinstance(job_id, str) or not job_id:
        return "name the job (Metronome's job id)"
    if not JOB_ID.fullmatch(job_id):
        return (
            f"{job_id!r} is not a Metronome job id: lowercase letters, digits and dashes, "
            "in segments separated by dots (e.g. hello.smoke-test)"
        )
    return ""


def _number(
    value: Any, path: str, errors: list, *, minimum: float, integer: bool = False
) -> float | int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        errors.append((path, f"{value!r} is not a {'whole ' if integer else ''}number"))
        return None
    if isinstance(value, bool) or number < minimum or (integer and float(value) != number):
        errors.append((path, f"must be a {'whole ' if integer else ''}number ≥ {minimum:g}"))
        return None
    return number


def _strings(value: Any, path: str, errors: list, *, secrets: bool = False) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors.append((path, "give a map of name to text"))
        return {}
    mapped: dict[str, Any] = {}
    for name, entry in value.items():
        if secrets and isinstance(entry, dict) and "secret" in entry:
            mapped[str(name)] = {"secret": str(entry["secret"])}
        elif isinstance(entry, dict | list):
            errors.append((f"{path}/{name}", "give text"))
        else:
            mapped[str(name)] = "" if entry is None else str(entry)
    return mapped


def _restart(description: dict[str, Any], errors: list) -> dict[str, Any] | None:
    given = description.get("restartPolicy") or description.get("restart") or {}
    key = "restartPolicy" if description.get("restartPolicy") else "restart"
    deadline = description.get("deadline")
    if not given and deadline in (None, ""):
        return None
    if not isinstance(given, dict):
        errors.append((f"/{key}", "give {policy, activeDeadlineSeconds}"))
        return None
    policy = str(given.get("policy") or "NEVER").upper()
    if policy not in RESTART_POLICIES:
        errors.append((f"/{key}/policy", f"one of {', '.join(RESTART_POLICIES)}"))
    restart: dict[str, Any] = {"policy": policy}
    seconds = given.get("activeDeadlineSeconds")
    path = f"/{key}/activeDeadlineSeconds"
    if seconds in (None, ""):
        seconds, path = deadline, "/deadline"
    seconds = _number(seconds, path, errors, minimum=1, integer=True)
    if seconds is not None:
        restart["activeDeadlineSeconds"] = seconds
    return restart


def _constraints(value: Any, errors: list) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.append(("/constraints", "give a list of {attribute, operator, value}"))
        return []
    found = []
    for index, entry in enumerate(value):
        path = f"/constraints/{index}"
        if not isinstance(entry, dict) or not entry.get("attribute"):
            errors.append((f"{path}/attribute", "name the attribute"))
            continue
        operator = str(entry.get("operator") or "").upper()
        if operator not in CONSTRAINT_OPERATORS:
            errors.append((f"{path}/operator", f"one of {', '.join(CONSTRAINT_OPERATORS)}"))
            continue
        constraint = {"attribute": str(entry["attribute"]), "operator": operator}
        if entry.get("value") not in (None, ""):
            constraint["value"] = str(entry["value"])
        found.append(constraint)
    return found


def _artifacts(value: Any, errors: list) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.append(("/artifacts", "give a list of {uri, extract, executable, cache}"))
        return []
    found = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or not entry.get("uri"):
            errors.append((f"/artifacts/{index}/uri", "give the artifact's URI"))
            continue
        found.append(
            {
                "uri": str(entry["uri"]),
                "extract": bool(entry.get("extract", True)),
                "executable": bool(entry.get("executable", False)),
                "cache": bool(entry.get("cache", False)),
            }
        )
    return found


def _volumes(value: Any, errors: list) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.append(("/volumes", "give a list of {containerPath, hostPath, mode}"))
        return []
    found = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or not entry.get("containerPath"):
            errors.append((f"/volumes/{index}/containerPath", "give the container path"))
            continue
        mode = str(entry.get("mode") or "RW").upper()
        if mode not in ("RO", "RW"):
            errors.append((f"/volumes/{index}/mode", "RO or RW"))
        found.append(
            {
                "containerPath": str(entry["containerPath"]),
                "hostPath": str(entry.get("hostPath", "")),
                "mode": mode,
            }
        )
    return found


def job_definition(description: dict[str, Any]) -> dict[str, Any]:
    """The Metronome job of a Run Job description, or DescriptionError with every problem
    (paths relative to the stage, e.g. /general/id)."""
    errors: list[tuple[str, str]] = []
    general = description.get("general")
    if not isinstance(general, dict):
        errors.append(("/general", "give {id, description, cpus, mem, disk, cmd}"))
        raise DescriptionError(errors)
    job_id = general.get("id")
    problem = job_id_error(job_id)
    if problem:
        errors.append(("/general/id", problem))
    run: dict[str, Any] = {}
    for key, minimum in (("cpus", 0.01), ("mem", 32), ("disk", 0)):
        value = _number(general.get(key), f"/general/{key}", errors, minimum=minimum)
        if value is not None:
            run[key] = value
    docker = description.get("docker")
    image = image_of(docker) if isinstance(docker, dict) else ""
    cmd = general.get("cmd")
    if cmd not in (None, ""):
        run["cmd"] = str(cmd)
    elif not image:
        errors.append(("/general/cmd", "give a command, or a docker image to run"))
    if image:
        run["docker"] = {"image": image}
        if isinstance(docker, dict) and docker.get("forcePullImage"):
            run["docker"]["forcePullImage"] = True
    if description.get("user"):
        run["user"] = str(description["user"])
    env = _strings(description.get("env"), "/env", errors, secrets=True)
    if env:
        run["env"] = env
    secrets = description.get("secrets")
    if isinstance(secrets, dict) and secrets:
        run["secrets"] = {
            str(name): {"source": str(s.get("source", "") if isinstance(s, dict) else s)}
            for name, s in secrets.items()
        }
    delay = _number(
        description.get("maxLaunchDelay"), "/maxLaunchDelay", errors, minimum=1, integer=True
    )
    if delay is not None:
        run["maxLaunchDelay"] = delay
    grace_key = "taskKillGracePeriodSeconds"
    grace = _number(description.get(grace_key), f"/{grace_key}", errors, minimum=0)
    if grace is not None:
        run[grace_key] = grace
    restart = _restart(description, errors)
    if restart:
        run["restart"] = restart
    constraints = _constraints(description.get("constraints"), errors)
    if constraints:
        run["placement"] = {"constraints": constraints}
    artifacts = _artifacts(description.get("artifacts"), errors)
    if artifacts:
        run["artifacts"] = artifacts
    volumes = _volumes(description.get("volumes"), errors)
    if volumes:
        run["volumes"] = volumes
    labels = _strings(description.get("labels"), "/labels", errors)
    if errors:
        raise DescriptionError(errors)
    job: dict[str, Any] = {"id": job_id, "labels": labels, "run": run}
    if general.get("description"):
        job["description"] = str(general["description"])
    return job


# Runs and sandboxes


@dataclass(frozen=True)
class JobRun:
    """One run of a job: ACTIVE/STARTING/INITIAL while active, then SUCCESS or FAILED."""

    id: str
    job_id: str
    status: str
    task_ids: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in (SUCCESS, FAILED)


@dataclass(frozen=True)
class Sandbox:
    """Where a task's files are: its agent and its directory there."""

    agent_id: str
    framework_id: str
    task_id: str
    directory: str
    state: str

    def as_json(self) -> dict[str, str]:
        return {
            "agentId": self.agent_id,
            "frameworkId": self.framework_id,
            "taskId": self.task_id,
            "directory": self.directory,
            "state": self.state,
        }

    @classmethod
    def from_json(cls, value: dict[str, str]) -> Sandbox:
        return cls(
            value["agentId"],
            value["frameworkId"],
            value["taskId"],
            value["directory"],
            value.get("state", ""),
        )


@dataclass(frozen=True)
class FileText:
    text: str
    size: int
    # True when only the end of the file was read.
    truncated: bool


def runs_of(job: dict[str, Any]) -> list[JobRun]:
    """Every run a job body (with activeRuns and history) knows, active ones first."""
    found = [
        JobRun(
            str(run["id"]),
            job["id"],
            str(run.get("status") or "ACTIVE"),
            tuple(str(t["id"]) for t in run.get("tasks") or () if isinstance(t, dict)),
        )
        for run in job.get("activeRuns") or ()
    ]
    history = job.get("history") or {}
    for key, status in (("successfulFinishedRuns", SUCCESS), ("failedFinishedRuns", FAILED)):
        for run in history.get(key) or ():
            tasks = tuple(str(t) for t in run.get("tasks") or ())
            found.append(JobRun(str(run["id"]), job["id"], status, tasks))
    return found


class MetronomeClient:
    """Metronome of one region, and the Mesos master and agents behind its admin router."""

    def __init__(self, config: RegionConfig, transport: Transport | None = None) -> None:
        self.config = config
        self.transport = transport or Transport(config, auth_for(config))

    def _path(self, path: str) -> str:
        return self.config.metronome_path.rstrip("/") + path

    def job(self, job_id: str) -> dict[str, Any] | None:
        """The job with its active runs and history, or None when Metronome has no such job."""
        try:
            return self.transport.get_json(
                self._path(f"/v1/jobs/{quote(job_id)}"), params=[("embed", e) for e in EMBEDS]
            )
        except NotFound:
            return None

    def upsert_job(self, spec: dict[str, Any]) -> bool:
        """Create the job, or replace its spec when it exists; True when it was created."""
        path = self._path(f"/v1/jobs/{quote(spec['id'])}")
        try:
            self.transport.request("PUT", path, json=spec)
            return False
        except NotFound:
            self.transport.request("POST", self._path("/v1/jobs"), json=spec)
            return True

    def start_run(self, job_id: str) -> JobRun:
        body = self.transport.request("POST", self._path(f"/v1/jobs/{quote(job_id)}/runs")).json()
        return JobRun(str(body["id"]), job_id, str(body.get("status") or "INITIAL"))

    def stop_run(self, job_id: str, run_id: str) -> bool:
        """Ask Metronome to stop the run; False when it had already finished."""
        path = f"/v1/jobs/{quote(job_id)}/runs/{quote(run_id)}/actions/stop"
        try:
            self.transport.request("POST", self._path(path))
        except NotFound:
            return False
        return True

    def run(self, job_id: str, run_id: str) -> JobRun | None:
        """The run, active or finished, or None when neither the job nor its history has it."""
        job = self.job(job_id)
        if job is None:
            return None
        return next((r for r in runs_of(job) if r.id == run_id), None)

    # Mesos

    def sandbox(self, task_id: str) -> Sandbox | None:
        """The sandbox of a Metronome task, from the master's and then the agent's state;
        None while Mesos does not know the task yet."""
        master = self.transport.get_json(MESOS_STATE)
        for framework in master.get("frameworks") or ():
            if framework.get("name") != "metronome":
                continue
            for task in (framework.get("tasks") or []) + (framework.get("completed_tasks") or []):
                if task.get("id") == task_id:
                    return self._agent_sandbox(task)
        return None

    def _agent_sandbox(self, task: dict[str, Any]) -> Sandbox | None:
        agent_id, framework_id = task["slave_id"], task["framework_id"]
        state = self.transport.get_json(f"/agent/{quote(agent_id)}/slave(1)/state.json")
        frameworks = (state.get("frameworks") or []) + (state.get("completed_frameworks") or [])
        for framework in frameworks:
            if framework.get("id") != framework_id:
                continue
            executors = (framework.get("executors") or []) + (
                framework.get("completed_executors") or []
            )
            for executor in executors:
                # The command executor's id is the task's (Mesos); else the executor lists it.
                tasks = (executor.get("tasks") or []) + (executor.get("completed_tasks") or [])
                ids = {executor.get("id"), *(t.get("id") for t in tasks)}
                if task["id"] in ids:
                    return Sandbox(
                        agent_id, framework_id, task["id"], executor["directory"], task["state"]
                    )
        return None

    def _files(self, agent_id: str, endpoint: str) -> str:
        return f"/agent/{quote(agent_id)}/files/{endpoint}"

    def file_size(self, agent_id: str, path: str) -> int | None:
        """The size of a sandbox file, or None when there is no such file."""
        try:
            body = self.transport.get_json(
                self._files(agent_id, "read"), params={"path": path, "offset": -1}
            )
        except NotFound:
            return None
        return int(body.get("offset", 0))

    def tail(self, sandbox: Sandbox, name: str, limit: int = READ_CHUNK) -> FileText | None:
        """The last LIMIT bytes (at most one read's worth) of a sandbox file, or None."""
        path = f"{sandbox.directory}/{name}"
        size = self.file_size(sandbox.agent_id, path)
        if size is None:
            return None
        limit = min(limit, READ_CHUNK)
        start = max(0, size - limit)
        body = self.transport.get_json(
            self._files(sandbox.agent_id, "read"),
            params={"path": path, "offset": start, "length": size - start},
        )
        return FileText(str(body.get("data", "")), size, truncated=start > 0)

    def read(self, sandbox: Sandbox, name: str, limit: int = PROPERTY_FILE_LIMIT) -> str | None:
        """A whole sandbox file as text, or None when there is none; a file over LIMIT bytes
        is refused (ValueError) rather than half read."""
        path = f"{sandbox.directory}/{name}"
        size = self.file_size(sandbox.agent_id, path)
        if size is None:
            return None
        if size > limit:
            raise ValueError(f"it is {size} bytes, more than the {limit} read back")
        try:
            response = self.transport.request(
                "GET", self._files(sandbox.agent_id, "download"), params={"path": path}
            )
        except NotFound:
            return None
        return response.content.decode("utf-8", "replace")


# Property files


class PropertyFileError(ValueError):
    """A property file that cannot be parsed; the message says where."""


def parse_property_file(name: str, text: str) -> dict[str, Any]:
    """Spinnaker's rule: a name containing `.json` is a JSON object, anything else Java
    properties."""
    if ".json" in name:
        try:
            value = json.loads(text)
        except ValueError as error:
            raise PropertyFileError(f"{name} is not valid JSON: {error}") from None
        if not isinstance(value, dict):
            raise PropertyFileError(f"{name} holds JSON {type(value).__name__}, not an object")
        return value
    return parse_properties(text)


PROPERTY_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, logical line): comments and blank lines dropped, a line ending in an odd
    number of backslashes joined to the next with that one's leading blanks removed."""
    found = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip(" \t\f")
        if not pending:
            if not line or line[0] in "#!":
                continue
            start = number
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending.append(line[:-1])
            continue
        pending.append(line)
        found.append((start, "".join(pending)))
        pending = []
    if pending:
        found.append((start, "".join(pending)))
    return found


def _unescape(text: str, line: int) -> str:
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if char != "\\" or index >= len(text):
            out.append(char)
            continue
        char = text[index]
        index += 1
        if char == "u":
            digits = text[index : index + 4]
            if len(digits) < 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise PropertyFileError(f"line {line}: malformed \\uxxxx escape")
            out.append(chr(int(digits, 16)))
            index += 4
        else:
            out.append(PROPERTY_ESCAPES.get(char, char))
    return "".join(out)


def parse_properties(text: str) -> dict[str, str]:
    """Java's Properties.load: `key=value`, `key: value` or `key value`, `#`/`!` comments,
    backslash continuations and escapes (\\t, \\n, \\uXXXX, \\=, \\:, …); the last key wins."""
    found: dict[str, str] = {}
    for number, line in _logical_lines(text):
        index, escaped = 0, False
        while index < len(line):
            char = line[index]
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char in "=: \t\f":
                break
            index += 1
        key = line[:index]
        rest = line[index:].lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        found[_unescape(key, number)] = _unescape(rest, number)
    return found
