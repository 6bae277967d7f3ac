"""Mesos as Admin Router shows it: master and agent state, and the agent's sandbox files.

A sandbox is on disk at <work-dir>/<cluster>/sandboxes/<task id>/; the state calls it by Mesos's
layout (/var/lib/mesos/slave/slaves/<agent>/frameworks/<fw>/executors/<task>/runs/<container>),
and the files endpoints accept either name. Nothing outside a sandbox is ever read: a path must
start with a sandbox's name, and its canonical form (`..` and symlinks resolved) must stay inside.
"""

from __future__ import annotations

import json
import mimetypes
import os
import stat
from pathlib import Path

from .cluster import Cluster, task_name
from .tasks import HOST, Task
from .web import Request, Response, json_response

MESOS_VERSION = "1.13.0"
WORK_DIR = "/var/lib/mesos/slave"
# the agent reads at most 16 pages per /files/read request (src/files/files.cpp)
MAX_READ_BYTES = 16 * 4096


def text(status: int, body: str) -> Response:
    return Response(status, body.encode(), {"Content-Type": "text/plain; charset=utf-8"})


class MesosApi:
    def __init__(self, cluster: Cluster):
        self.cluster = cluster

    # ---- what runs where ---------------------------------------------------------------

    def frameworks(self) -> list[tuple[str, str, list[tuple[Task, str]]]]:
        """(framework id, name, [(live task, task name)]) for Marathon and Metronome."""
        cluster = self.cluster
        marathon = [
            (task, task_name(app.id))
            for app in list(cluster.apps.values()) + list(cluster.stopping.values())
            for task in app.tasks.values()
        ]
        metronome = [
            (task, run.job_id)
            for runs in cluster.jobs.runs.values()
            for run in runs.values()
            for task in run.live()
        ]
        return [
            (cluster.framework_id, "marathon", marathon),
            (cluster.metronome_framework_id, "metronome", metronome),
        ]

    def directory(self, framework_id: str, task_id: str, container_id: str) -> str:
        agent = self.cluster.slave_id
        return (
            f"{WORK_DIR}/slaves/{agent}/frameworks/{framework_id}/executors/{task_id}"
            f"/runs/{container_id}"
        )

    def sandboxes(self) -> dict[str, Path]:
        """Every sandbox the agent serves, by its Mesos directory and by its real path."""
        found: dict[str, Path] = {}
        for framework_id, _, tasks in self.frameworks():
            for task, _ in tasks:
                if task.sandbox is not None:
                    found[self.directory(framework_id, task.id, task.container_id)] = task.sandbox
        for framework_id, records in self.cluster.completed.items():
            for record in records:
                if record["sandbox"]:
                    path = self.directory(framework_id, record["id"], record["container"])
                    found[path] = Path(record["sandbox"])
        for sandbox in list(found.values()):
            found[str(sandbox)] = sandbox
        return found

    def task_json(self, record: dict, state: str | None = None) -> dict:
        return {
            "id": record["id"],
            "name": record["name"],
            "framework_id": record["framework_id"],
            # Marathon and Metronome launch with the command executor, so no executor id here
            "executor_id": "",
            "slave_id": record["slave_id"],
            "state": state or record["state"],
            "resources": {"cpus": 0.0, "mem": 0.0, "disk": 0.0, "gpus": 0.0},
            "statuses": [
                {
                    "state": state or record["state"],
                    "timestamp": record.get("finished_at") or record["started_at"],
                    "container_status": {"container_id": {"value": record["container"]}},
                }
            ],
        }

    def _live_records(self, framework_id: str, tasks: list[tuple[Task, str]]) -> list[dict]:
        return [self.cluster.mesos_task(task, framework_id, name) for task, name in tasks]

    # ---- routes ------------------------------------------------------------------------

    def master(self, request: Request, path: str) -> Response | None:
        if path not in (
            "/mesos/state.json",
            "/mesos/master/state.json",
            "/mesos/state",
            "/mesos/master/state",
        ):
            return None
        if request.method != "GET":
            return text(405, "Expecting 'GET', received '" + request.method + "'")
        return json_response(200, self.master_state())

    def master_state(self) -> dict:
        cluster = self.cluster
        frameworks = []
        for framework_id, name, tasks in self.frameworks():
            frameworks.append(
                {
                    "id": framework_id,
                    "name": name,
                    "pid": f"scheduler-{framework_id}@{HOST}",
                    "hostname": HOST,
                    "active": True,
                    "connected": True,
                    "recovered": False,
                    "role": "slave_public" if name == "marathon" else "*",
                    "user": "root",
                    "tasks": [self.task_json(r) for r in self._live_records(framework_id, tasks)],
                    "unreachable_tasks": [],
                    "completed_tasks": [
                        self.task_json(r) for r in reversed(cluster.completed[framework_id])
                    ],
                    "executors": [],
                }
            )
        return {
            "version": MESOS_VERSION,
            "id": f"{cluster.slave_id.removesuffix('-S0')}",
            "pid": f"master@{HOST}:5050",
            "hostname": HOST,
            "leader": f"master@{HOST}:5050",
            "cluster": cluster.name,
            "activated_slaves": 1,
            "deactivated_slaves": 0,
            "slaves": [
                {
                    "id": cluster.slave_id,
                    "pid": f"slave(1)@{HOST}:5051",
                    "hostname": HOST,
                    "active": True,
                    "version": MESOS_VERSION,
                }
            ],
            "frameworks": frameworks,
            "completed_frameworks": [],
            "orphan_tasks": [],
            "unregistered_frameworks": [],
        }

    def agent(self, request: Request, path: str) -> Response | None:
        """/agent/{agentId}/... ; None when the path is not an agent path."""
        if not path.startswith(("/agent/", "/slave/")):
            return None
        _, _, rest = path[1:].partition("/")
        agent_id, _, endpoint = rest.partition("/")
        if agent_id != self.cluster.slave_id:
            return text(404, f"Agent {agent_id} not found")
        endpoint = "/" + endpoint
        if endpoint in ("/slave(1)/state.json", "/slave(1)/state", "/state.json", "/state"):
            return json_response(200, self.agent_state())
        if endpoint in ("/files/read", "/files/read.json"):
            return self.read(request)
        if endpoint in ("/files/download", "/files/download.json"):
            return self.download(request)
        if endpoint in ("/files/browse", "/files/browse.json"):
            return self.browse(request)
        return text(404, "")

    def agent_state(self) -> dict:
        cluster = self.cluster
        active, completed = [], []
        for framework_id, name, tasks in self.frameworks():
            executors = [
                self.executor_json(record, live=True)
                for record in self._live_records(framework_id, tasks)
            ]
            completed_executors = [
                self.executor_json(record, live=False)
                for record in reversed(cluster.completed[framework_id])
            ]
            framework = {
                "id": framework_id,
                "name": name,
                "user": "root",
                "hostname": HOST,
                "role": "slave_public" if name == "marathon" else "*",
                "executors": executors,
                "completed_executors": completed_executors,
            }
            if not completed_executors and not executors:
                continue
            # as a Mesos agent: a framework with no executor left on it has completed here
            (active if executors else completed).append(framework)
        return {
            "id": cluster.slave_id,
            "pid": f"slave(1)@{HOST}:5051",
            "hostname": HOST,
            "version": MESOS_VERSION,
            "master_hostname": HOST,
            "flags": {"work_dir": WORK_DIR},
            "frameworks": active,
            "completed_frameworks": completed,
        }

    def executor_json(self, record: dict, live: bool) -> dict:
        task = self.task_json(record)
        return {
            "id": record["id"],
            "name": f"Command Executor (Task: {record['id']})",
            "source": record["id"],
            "container": record["container"],
            "directory": self.directory(record["framework_id"], record["id"], record["container"]),
            "framework_id": record["framework_id"],
            "resources": task["resources"],
            "tasks": [task] if live else [],
            "queued_tasks": [],
            "completed_tasks": [] if live else [task],
        }

    # ---- files -------------------------------------------------------------------------

    def resolve(self, request: Request, inaccessible: int = 400) -> Path | Response:
        """The real path a `path` query names, or the error response; never outside a sandbox.

        As the agent's files/files.cpp: the longest attached directory that prefixes the path
        is taken, the rest joined on and made canonical (`..`, symlinks); a result outside that
        directory is refused ("inaccessible": 400 for read and download, 500 for browse), a
        path under no attached directory or to nothing is 404.
        """
        values = request.query.get("path")
        if not values or not values[-1]:
            return text(400, "Expecting 'path=value' in query.\n")
        raw = values[-1]
        if "\x00" in raw:
            return Response(404)
        tokens = raw.rstrip("/").split("/")
        sandboxes = self.sandboxes()
        suffix: list[str] = []
        while tokens:
            sandbox = sandboxes.get("/".join(tokens))
            if sandbox is None:
                suffix.insert(0, tokens.pop())
                continue
            root = os.path.realpath(sandbox)
            joined = os.path.join(root, *suffix)
            target = os.path.realpath(joined)
            if target != root and not target.startswith(root + os.sep):
                return text(inaccessible, f"'{joined}' is inaccessible.\n")
            if not os.path.exists(target):
                return Response(404)
            return Path(target)
        return Response(404)

    def read(self, request: Request) -> Response:
        try:
            offset = int((request.query.get("offset") or ["-1"])[-1])
        except ValueError:
            return text(400, "Failed to parse offset: not a number.\n")
        try:
            length = int((request.query.get("length") or ["-1"])[-1])
        except ValueError:
            return text(400, "Failed to parse length: not a number.\n")
        target = self.resolve(request)
        if isinstance(target, Response):
            return target
        if target.is_dir():
            return text(400, "Cannot read a directory.\n")
        if offset < -1 or length < -1:
            return text(400, "Negative offset or length.\n")
        try:
            with open(target, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                if offset == -1:
                    offset = size
                if length == -1:
                    length = size - offset
                # the agent caps one read at 16 pages
                length = min(length, MAX_READ_BYTES)
                if offset >= size:
                    return json_response(200, {"data": "", "offset": size})
                handle.seek(offset)
                data = handle.read(length)
        except OSError as error:
            return text(500, f"Failed to open file at '{target}': {error.strerror}.\n")
        return json_response(200, {"data": data.decode("utf-8", "replace"), "offset": offset})

    def download(self, request: Request) -> Response:
        target = self.resolve(request)
        if isinstance(target, Response):
            return target
        if target.is_dir():
            return text(400, "Cannot download a directory.\n")
        try:
            data = target.read_bytes()
        except OSError as error:
            return text(500, f"Failed to open file at '{target}': {error.strerror}.\n")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(
            200,
            data,
            {
                "Content-Type": content_type,
                "Content-Disposition": f"attachment; filename={target.name}",
            },
        )

    def browse(self, request: Request) -> Response:
        target = self.resolve(request, inaccessible=500)
        if isinstance(target, Response):
            return target
        if not target.is_dir():
            return Response(404)
        wanted = request.query["path"][-1].rstrip("/")
        root = os.path.realpath(target)
        entries = []
        for entry in sorted(os.scandir(target), key=lambda e: e.name):
            real = os.path.realpath(entry.path)
            if real != root and not real.startswith(root + os.sep) and entry.is_symlink():
                continue  # a link out of the sandbox is not listed either
            info = entry.stat(follow_symlinks=False)
            entries.append(
                {
                    "path": f"{wanted}/{entry.name}",
                    "nlink": info.st_nlink,
                    "size": info.st_size,
                    "mtime": int(info.st_mtime),
                    "mode": stat.filemode(info.st_mode),
                    "uid": str(info.st_uid),
                    "gid": str(info.st_gid),
                }
            )
        return Response(200, json.dumps(entries).encode(), {"Content-Type": "application/json"})
