"""Admin Router layout and Marathon's v2 REST API over one Cluster."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from datetime import datetime

from . import apps as appdefs
from .auth import Auth, unauthorized
from .cluster import App, Cluster, Deployment
from .mesos import MesosApi
from .metronome import MetronomeApi
from .tasks import Task
from .web import Request, Response, StreamResponse, StreamWriter, json_response, nginx_error

MARATHON_VERSION = "1.10.17"
TASK_ID = re.compile(r"^[^/\s]+\.(instance-|marathon-)?[0-9a-f-]{36}(\._app\.\d+)?$")
APP_SUFFIXES = ("restart", "tasks", "versions")
EMBED_PREFIXES = ("apps.", "app.")
EMBED_ALIASES = {"failures": "lastTaskFailure"}


def message(status: int, text: str, **extra) -> Response:
    return json_response(status, {"message": text, **extra})


def method_not_allowed() -> Response:
    return message(405, "HTTP 405 Method Not Allowed")


def deployment_result(deployment: Deployment, status: int = 200) -> Response:
    return json_response(
        status,
        {"deploymentId": deployment.id, "version": deployment.version},
        {"Marathon-Deployment-Id": deployment.id},
    )


def locked(deployments: list[Deployment]) -> Response:
    return message(
        409,
        "App is locked by one or more deployments. Override with the option '?force=true'. "
        "View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
        deployments=[{"id": d.id} for d in deployments],
    )


class ParseError(Exception):
    def __init__(self, response: Response):
        self.response = response


def parse_json(body: bytes):
    if not body.strip():
        raise ParseError(
            message(
                400, "Invalid JSON", details=[{"path": "/", "errors": ["error.expected.jsobject"]}]
            )
        )
    try:
        return json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as error:
        text = str(error)
        raise ParseError(message(400, f"Unexpected character: {text}")) from None


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


class MarathonApi:
    def __init__(self, cluster: Cluster, auth: Auth):
        self.cluster = cluster
        self.auth = auth
        self.metronome = MetronomeApi(cluster.jobs)
        self.mesos = MesosApi(cluster)

    # ---- admin router ------------------------------------------------------------------

    async def handle(self, request: Request) -> Response | StreamResponse:
        path = request.path
        if path == "/acs/api/v1/auth/login":
            if request.method != "POST":
                return nginx_error(405)
            return self.auth.login(request)
        if self.auth.enabled and not self.auth.authorized(request):
            return unauthorized()
        if path in ("/service/marathon", "/service/metronome"):
            return Response(301, b"", {"Location": path + "/"})
        if path.startswith("/service/metronome/"):
            path = path[len("/service/metronome") :]
            if path == "/v1" or path.startswith("/v1/"):
                return await self.metronome.handle(request, path)
            return nginx_error(404)
        if path == "/v1" or path.startswith("/v1/"):
            return await self.metronome.handle(request, path)
        mesos = self.mesos.master(request, path) or self.mesos.agent(request, path)
        if mesos is not None:
            return mesos
        if path == "/marathon":
            return Response(307, b"", {"Location": "/marathon/"})
        for prefix in ("/service/marathon", "/marathon"):
            if path.startswith(prefix + "/"):
                path = path[len(prefix) :]
                break
        if path == "/ping":
            return Response(200, b"pong\n", {"Content-Type": "text/plain"})
        if path == "/v2" or path.startswith("/v2/"):
            return await self.marathon(request, path)
        return nginx_error(404)

    # ---- routing -----------------------------------------------------------------------

    async def marathon(self, request: Request, path: str) -> Response | StreamResponse:
        parts = [p for p in path.split("/") if p][1:]
        resource = parts[0] if parts else ""
        rest = parts[1:]
        method = request.method
        try:
            if resource == "apps":
                return self.apps_route(request, rest)
            if resource == "deployments":
                if not rest:
                    return self.deployments() if method == "GET" else method_not_allowed()
                if len(rest) == 1 and method == "DELETE":
                    return self.delete_deployment(request, rest[0])
                return method_not_allowed() if len(rest) == 1 else self.not_found(path)
            if resource == "tasks":
                if not rest:
                    return self.list_tasks(request) if method == "GET" else method_not_allowed()
                if rest == ["delete"]:
                    return self.delete_tasks(request) if method == "POST" else method_not_allowed()
            if resource == "queue":
                if not rest:
                    return self.queue() if method == "GET" else method_not_allowed()
                if len(rest) >= 2 and rest[-1] == "delay":
                    if method != "DELETE":
                        return method_not_allowed()
                    return self.reset_delay("/" + "/".join(rest[:-1]))
            if resource == "groups":
                return self.groups(request, rest)
            if resource == "info" and not rest:
                return self.info() if method == "GET" else method_not_allowed()
            if resource == "leader" and not rest:
                if method == "GET":
                    port = self.cluster.port
                    return json_response(200, {"leader": f"127.0.0.1:{port}"})
                return method_not_allowed()
            if resource == "events" and not rest:
                return self.events(request) if method == "GET" else method_not_allowed()
            return self.not_found(path)
        except ParseError as error:
            return error.response
        except appdefs.InvalidJson as error:
            return message(400, "Invalid JSON", details=error.details)
        except appdefs.Invalid as error:
            return message(422, "Object is not valid", details=error.details)

    def not_found(self, path: str) -> Response:
        # reference §1 "Errors": an unknown URI is a 500 with this message
        return message(500, "URI not found")

    def apps_route(self, request: Request, rest: list[str]) -> Response:
        method = request.method
        if not rest:
            if method == "GET":
                return self.list_apps(request)
            if method == "POST":
                return self.create_app(request)
            if method == "PUT":
                return self.update_many(request)
            return method_not_allowed()
        if rest[-1] == "*" and method == "GET":
            group = appdefs.canonical_id("/".join(rest[:-1]))
            prefix = group.rstrip("/") + "/"
            found = [
                self.app_json(app, self.embeds(request, always=("counts", "deployments")))
                for app in self.cluster.apps.values()
                if app.id.startswith(prefix)
            ]
            return json_response(200, {"*": found})
        split = next((i for i, p in enumerate(rest) if p in APP_SUFFIXES and i > 0), len(rest))
        app_id = appdefs.canonical_id("/".join(rest[:split]))
        suffix = rest[split:]
        if suffix and suffix[0] == "restart" and len(suffix) == 1:
            return self.restart_app(request, app_id) if method == "POST" else method_not_allowed()
        if suffix and suffix[0] == "tasks":
            if len(suffix) == 1:
                if method == "GET":
                    return self.app_tasks(app_id)
                if method == "DELETE":
                    return self.kill_app_tasks(request, app_id)
                return method_not_allowed()
            if len(suffix) == 2:
                if method == "DELETE":
                    return self.kill_app_task(request, app_id, suffix[1])
                if method == "GET":
                    return self.get_app_task(app_id, suffix[1])
                return method_not_allowed()
        if suffix and suffix[0] == "versions":
            if method != "GET":
                return method_not_allowed()
            app = self.cluster.apps.get(app_id)
            if app is None:
                return self.no_app(app_id)
            if len(suffix) == 1:
                return json_response(200, {"versions": sorted(app.versions, reverse=True)})
            if len(suffix) == 2:
                spec = app.versions.get(suffix[1])
                if spec is None:
                    return message(404, f"App '{app_id}' does not exist in version {suffix[1]}")
                return json_response(200, spec)
        if suffix:
            return self.not_found(request.path)
        if method == "GET":
            app = self.cluster.apps.get(app_id)
            if app is None:
                return self.no_app(app_id)
            embeds = self.embeds(
                request, always=("counts", "deployments", "tasks", "lastTaskFailure")
            )
            return json_response(200, {"app": self.app_json(app, embeds)})
        if method in ("PUT", "PATCH"):
            return self.put_app(request, app_id, patch=method == "PATCH")
        if method == "DELETE":
            return self.delete_app(request, app_id)
        return method_not_allowed()

    # ---- JSON views --------------------------------------------------------------------

    @staticmethod
    def embeds(request: Request, always: tuple[str, ...]) -> set[str]:
        wanted = set(always)
        for value in request.query.get("embed", []):
            for prefix in EMBED_PREFIXES:
                if value.startswith(prefix):
                    name = value[len(prefix) :]
                    wanted.add(EMBED_ALIASES.get(name, name))
        return wanted

    def task_json(self, app: App, task: Task) -> dict:
        return task.to_json(self.cluster.slave_id, app.spec["role"])

    def app_json(self, app: App, embeds: set[str]) -> dict:
        body = dict(app.spec)
        tasks = list(app.tasks.values())
        if "counts" in embeds:
            body["tasksStaged"] = sum(t.state in ("TASK_STAGING", "TASK_STARTING") for t in tasks)
            body["tasksRunning"] = sum(t.state == "TASK_RUNNING" for t in tasks)
            with_checks = bool(app.spec["healthChecks"])
            body["tasksHealthy"] = sum(with_checks and t.alive is True for t in tasks)
            body["tasksUnhealthy"] = sum(with_checks and t.alive is False for t in tasks)
        if "deployments" in embeds:
            body["deployments"] = [{"id": app.deployment.id}] if app.deployment else []
        if "tasks" in embeds:
            body["tasks"] = [self.task_json(app, t) for t in tasks]
        if "lastTaskFailure" in embeds and app.last_failure:
            body["lastTaskFailure"] = app.last_failure
        if "readiness" in embeds:
            body["readinessCheckResults"] = [r for t in tasks for r in t.readiness.values()]
        if "taskStats" in embeds:
            body["taskStats"] = self.task_stats(app)
        return body

    def task_stats(self, app: App) -> dict:
        def summary(tasks: list[Task]) -> dict:
            now = time.time()
            lives = sorted(now - t.started_at for t in tasks if t.started_at)
            stats = {
                "counts": {
                    "staged": sum(t.state in ("TASK_STAGING", "TASK_STARTING") for t in tasks),
                    "running": sum(t.state == "TASK_RUNNING" for t in tasks),
                    "healthy": sum(t.alive is True for t in tasks),
                    "unhealthy": sum(t.alive is False for t in tasks),
                }
            }
            if lives:
                stats["lifeTime"] = {
                    "averageSeconds": sum(lives) / len(lives),
                    "medianSeconds": lives[len(lives) // 2],
                }
            return {"stats": stats}

        tasks = list(app.tasks.values())
        if not tasks:
            return {}
        current = app.spec["versionInfo"]["lastConfigChangeAt"]
        scaled_at = app.spec["versionInfo"]["lastScalingAt"]
        groups = {
            "startedAfterLastScaling": [t for t in tasks if t.staged_at >= _seconds(scaled_at)],
            "withLatestConfig": [t for t in tasks if t.config_version == current],
            "withOutdatedConfig": [t for t in tasks if t.config_version != current],
            "totalSummary": tasks,
        }
        return {name: summary(group) for name, group in groups.items() if group}

    def no_app(self, app_id: str) -> Response:
        return message(404, f"App '{app_id}' does not exist")

    # ---- apps --------------------------------------------------------------------------

    def list_apps(self, request: Request) -> Response:
        embeds = self.embeds(request, always=("counts", "deployments"))
        wanted_id = (request.query.get("id") or [""])[-1].lower()
        wanted_cmd = (request.query.get("cmd") or [""])[-1]
        selectors = [s for value in request.query.get("label", []) for s in _split_labels(value)]
        found = []
        for app in self.cluster.apps.values():
            if wanted_id and wanted_id not in app.id.lower():
                continue
            if wanted_cmd and wanted_cmd not in (app.spec.get("cmd") or ""):
                continue
            if not all(_label_matches(app.spec["labels"], s) for s in selectors):
                continue
            found.append(self.app_json(app, embeds))
        return json_response(200, {"apps": found})

    def _json_object(self, request: Request) -> dict:
        body = parse_json(request.body)
        if not isinstance(body, dict):
            raise appdefs.InvalidJson([{"path": "/", "errors": ["error.expected.jsobject"]}])
        return body

    @staticmethod
    def _definition(body: dict) -> dict:
        return {
            k: v
            for k, v in body.items()
            if k not in appdefs.STATUS_FIELDS and k not in ("version", "versionInfo")
        }

    def _id_from_body(self, body: dict) -> str:
        raw = body.get("id")
        if not isinstance(raw, str):
            path_errors = ["error.path.missing"] if raw is None else ["error.expected.jsstring"]
            raise appdefs.InvalidJson([{"path": "/id", "errors": path_errors}])
        errors = appdefs.id_errors(raw)
        if errors:
            raise appdefs.Invalid([{"path": "/id", "errors": errors}])
        return appdefs.canonical_id(raw)

    def create_app(self, request: Request) -> Response:
        body = self._json_object(request)
        app_id = self._id_from_body(body)
        spec = appdefs.normalize(self._definition(body), app_id)
        if app_id in self.cluster.apps:
            return message(409, f"An app with id [{app_id}] already exists.")
        if app_id in self.cluster.stopping:
            return locked(self.cluster.locking_deployments(app_id))
        deployment = self.cluster.create(spec)
        app = self.cluster.apps[app_id]
        self._api_post(request, app)
        response = json_response(
            201,
            self.app_json(app, {"counts", "deployments", "tasks"}),
            {"Location": f"/v2/apps{app_id}", "Marathon-Deployment-Id": deployment.id},
        )
        return response

    def _api_post(self, request: Request, app: App) -> None:
        self.cluster.events.publish(
            "api_post_event",
            clientIp=request.client_ip,
            uri=request.raw_uri,
            appDefinition=app.spec,
        )

    def _apply(self, request: Request, app_id: str, body: dict, partial: bool) -> Response:
        """Create or update one app from a PUT/PATCH body; the caller has parsed the body."""
        force = request.flag("force")
        app = self.cluster.apps.get(app_id)
        if app is None:
            if request.method == "PATCH":
                return self.no_app(app_id)
            if set(body) == {"version"}:
                return self.no_app(app_id)
            spec = appdefs.normalize(self._definition({**body, "id": app_id}), app_id)
            if app_id in self.cluster.stopping and not force:
                return locked(self.cluster.locking_deployments(app_id))
            deployment = self.cluster.create(spec)
            self._api_post(request, self.cluster.apps[app_id])
            return deployment_result(deployment, 201)
        if set(body) == {"version"}:
            target = app.versions.get(body["version"]) if isinstance(body["version"], str) else None
            if target is None:
                return message(404, f"App '{app_id}' does not exist in version {body['version']}")
            definition = self._definition(target)
        else:
            definition = self._definition({**body, "id": app_id})
            if partial:
                definition = appdefs.merge_update(self._definition(app.spec), definition)
        spec = appdefs.normalize(definition, app_id)
        blocking = self.cluster.locking_deployments(app_id)
        if blocking and not force:
            return locked(blocking)
        if blocking:
            self.cluster.cancel(app)
        deployment = self.cluster.update(app, spec)
        self._api_post(request, app)
        return deployment_result(deployment)

    def put_app(self, request: Request, app_id: str, patch: bool) -> Response:
        errors = appdefs.id_errors(app_id)
        if errors:
            return message(422, "Object is not valid", details=[{"path": "/id", "errors": errors}])
        body = self._json_object(request)
        partial = True if patch else request.flag("partialUpdate", default=True)
        return self._apply(request, app_id, body, partial)

    def update_many(self, request: Request) -> Response:
        body = parse_json(request.body)
        if not isinstance(body, list):
            return message(
                400, "Invalid JSON", details=[{"path": "", "errors": ["error.expected.jsarray"]}]
            )
        results = []
        for index, entry in enumerate(body):
            if not isinstance(entry, dict):
                return message(
                    400,
                    "Invalid JSON",
                    details=[{"path": f"({index})", "errors": ["error.expected.jsobject"]}],
                )
            app_id = self._id_from_body(entry)
            results.append(self._apply(request, app_id, entry, partial=True))
        failures = [r for r in results if r.status >= 400]
        if failures:
            return failures[0]
        return results[-1] if results else message(200, "No apps given")

    def delete_app(self, request: Request, app_id: str) -> Response:
        app = self.cluster.apps.get(app_id)
        if app is None:
            return self.no_app(app_id)
        blocking = self.cluster.locking_deployments(app_id)
        if blocking and not request.flag("force", default=True):
            return locked(blocking)
        if blocking:
            self.cluster.cancel(app)
        return deployment_result(self.cluster.delete(app))

    def restart_app(self, request: Request, app_id: str) -> Response:
        app = self.cluster.apps.get(app_id)
        if app is None:
            return self.no_app(app_id)
        blocking = self.cluster.locking_deployments(app_id)
        if blocking and not request.flag("force"):
            return locked(blocking)
        if blocking:
            self.cluster.cancel(app)
        spec = appdefs.normalize(self._definition(app.spec), app_id)
        return deployment_result(self.cluster.update(app, spec, restart=True))

    # ---- tasks -------------------------------------------------------------------------

    def app_tasks(self, app_id: str) -> Response:
        app = self.cluster.apps.get(app_id)
        if app is None:
            return self.no_app(app_id)
        return json_response(200, {"tasks": [self.task_json(app, t) for t in app.tasks.values()]})

    def get_app_task(self, app_id: str, task_id: str) -> Response:
        app = self.cluster.apps.get(app_id)
        if app is None:
            return self.no_app(app_id)
        task = app.tasks.get(task_id)
        if task is None:
            return message(404, f"Task '{task_id}' does not exist")
        return json_response(200, {"task": self.task_json(app, task)})

    def _kill(self, request: Request, app: App, tasks: list[Task]) -> Response | None:
        """Kill tasks; with scale=true also lower instances by as many (a deployment)."""
        if request.flag("scale"):
            blocking = self.cluster.locking_deployments(app.id)
            if blocking and not request.flag("force"):
                return locked(blocking)
            if blocking:
                self.cluster.cancel(app)
            for task in tasks:
                self.cluster.kill(app, task)
            definition = self._definition(app.spec)
            definition["instances"] = max(0, app.spec["instances"] - len(tasks))
            spec = appdefs.normalize(definition, app.id)
            return deployment_result(self.cluster.update(app, spec))
        for task in tasks:
            self.cluster.kill(app, task)
        return None

    def kill_app_tasks(self, request: Request, app_id: str) -> Response:
        app = self.cluster.apps.get(app_id)
        if app is None:
            return self.no_app(app_id)
        host = (request.query.get("host") or [""])[-1]
        tasks = [t for t in app.active_tasks() if not host or host == "127.0.0.1"]
        snapshots = [self.task_json(app, t) for t in tasks]
        result = self._kill(request, app, tasks)
        return result or json_response(200, {"tasks": snapshots})

    def kill_app_task(self, request: Request, app_id: str, task_id: str) -> Response:
        app = self.cluster.apps.get(app_id)
        if app is None:
            return self.no_app(app_id)
        task = app.tasks.get(task_id)
        if task is None:
            return message(404, f"Task '{task_id}' does not exist")
        snapshot = self.task_json(app, task)
        result = self._kill(request, app, [task])
        return result or json_response(200, {"task": snapshot})

    def list_tasks(self, request: Request) -> Response:
        wanted = {s.lower() for key in ("status", "status[]") for s in request.query.get(key, [])}
        found = []
        for app in self.cluster.apps.values():
            for task in app.tasks.values():
                state = task.state.removeprefix("TASK_").lower()
                if wanted and state not in wanted:
                    continue
                found.append(self.task_json(app, task))
        return json_response(200, {"tasks": found})

    def delete_tasks(self, request: Request) -> Response:
        body = parse_json(request.body)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return message(
                400,
                "Invalid JSON",
                details=[{"path": "/ids", "errors": ["error.expected.jsarray"]}],
            )
        for task_id in ids:
            if not TASK_ID.match(task_id):
                return message(400, f"Invalid task id '{task_id}'.")
        by_app: dict[str, list[Task]] = {}
        for app in self.cluster.apps.values():
            for task_id in ids:
                if task_id in app.tasks:
                    by_app.setdefault(app.id, []).append(app.tasks[task_id])
        killed = []
        result = None
        for app_id, tasks in by_app.items():
            app = self.cluster.apps[app_id]
            killed += [self.task_json(app, t) for t in tasks]
            result = self._kill(request, app, tasks) or result
            if result is not None and result.status == 409:
                return result
        if request.flag("scale"):
            return result or json_response(200, {"deploymentId": None, "version": None})
        return json_response(200, {"tasks": killed})

    # ---- deployments, queue, groups, info ----------------------------------------------

    def deployment_json(self, deployment: Deployment) -> dict:
        app = self.cluster.apps.get(deployment.app_id) or self.cluster.stopping.get(
            deployment.app_id
        )
        readiness = []
        if app is not None:
            readiness = [r for t in app.tasks.values() for r in t.readiness.values()]
        return {
            "id": deployment.id,
            "version": deployment.version,
            "affectedApps": [deployment.app_id],
            "affectedPods": [],
            "steps": deployment.plan()["steps"],
            "currentActions": [
                {
                    "action": deployment.action,
                    "app": deployment.app_id,
                    "readinessCheckResults": readiness,
                }
            ],
            "currentStep": min(deployment.current + 1, len(deployment.steps)),
            "totalSteps": len(deployment.steps),
        }

    def _all_deployments(self) -> list[tuple[App, Deployment]]:
        every = list(self.cluster.apps.values()) + list(self.cluster.stopping.values())
        return [(app, app.deployment) for app in every if app.deployment]

    def deployments(self) -> Response:
        return json_response(200, [self.deployment_json(d) for _, d in self._all_deployments()])

    def delete_deployment(self, request: Request, deployment_id: str) -> Response:
        for app, deployment in self._all_deployments():
            if deployment.id == deployment_id:
                if request.flag("force"):
                    self.cluster.cancel(app)
                    return Response(202, b"")
                return deployment_result(self.cluster.revert(app))
        return message(404, f"DeploymentPlan {deployment_id} does not exist")

    def queue(self) -> Response:
        now = time.time()
        entries = []
        for app in self.cluster.apps.values():
            missing = app.spec["instances"] - len(app.active_tasks())
            delayed = app.delay_until > now
            if missing <= 0 and not delayed:
                continue
            left = max(0.0, app.delay_until - now) / self.cluster.options.time_scale
            entries.append(
                {
                    "count": max(0, missing),
                    "delay": {"timeLeftSeconds": round(left), "overdue": not delayed},
                    "since": appdefs.timestamp(app.waiting_since or now),
                    "processedOffersSummary": {
                        "processedOffersCount": 0,
                        "unusedOffersCount": 0,
                        "rejectSummaryLastOffers": [],
                        "rejectSummaryLaunchAttempt": [],
                    },
                    "app": self.app_json(app, {"counts", "deployments"}),
                    "role": app.spec["role"],
                }
            )
        return json_response(200, {"queue": entries})

    def reset_delay(self, app_id: str) -> Response:
        app = self.cluster.apps.get(appdefs.canonical_id(app_id))
        if app is None:
            return self.no_app(appdefs.canonical_id(app_id))
        self.cluster.reset_delay(app)
        return Response(204, b"")

    def groups(self, request: Request, rest: list[str]) -> Response:
        if request.method != "GET":
            return method_not_allowed()
        wanted = appdefs.canonical_id("/".join(rest)) if rest else "/"
        embeds = {"counts", "deployments"}
        root = {"id": "/", "apps": [], "groups": {}, "pods": []}
        for app in sorted(self.cluster.apps.values(), key=lambda a: a.id):
            node = root
            segments = app.id.strip("/").split("/")[:-1]
            for depth in range(len(segments)):
                group_id = "/" + "/".join(segments[: depth + 1])
                node = node["groups"].setdefault(
                    group_id, {"id": group_id, "apps": [], "groups": {}, "pods": []}
                )
            node["apps"].append(self.app_json(app, embeds))
        versions = [a.spec["version"] for a in self.cluster.apps.values()]
        version = max(versions) if versions else appdefs.timestamp(0)

        def finish(node: dict) -> dict:
            return {
                "id": node["id"],
                "apps": node["apps"],
                "groups": [finish(g) for g in node["groups"].values()],
                "pods": [],
                "dependencies": [],
                "version": version,
                "enforceRole": False,
            }

        def find(node: dict) -> dict | None:
            if node["id"] == wanted:
                return node
            for child in node["groups"].values():
                hit = find(child)
                if hit:
                    return hit
            return None

        found = find(root)
        if found is None:
            return message(404, f"Group '{wanted}' does not exist")
        return json_response(200, finish(found))

    def info(self) -> Response:
        port = self.cluster.port
        return json_response(
            200,
            {
                "name": "marathon",
                "version": MARATHON_VERSION,
                "buildref": "localdcos",
                "elected": True,
                "leader": f"127.0.0.1:{port}",
                "frameworkId": self.cluster.framework_id,
                "marathon_config": {
                    "checkpoint": True,
                    "executor": "//cmd",
                    "failover_timeout": 604800,
                    "framework_name": "marathon",
                    "ha": True,
                    "hostname": "127.0.0.1",
                    "leader_proxy_connection_timeout_ms": 5000,
                    "leader_proxy_read_timeout_ms": 10000,
                    "local_port_min": 10000,
                    "local_port_max": 20000,
                    "master": "zk://127.0.0.1:2181/mesos",
                    "mesos_leader_ui_url": f"http://127.0.0.1:{port}/mesos",
                    "mesos_role": "slave_public",
                    "mesos_user": "root",
                    "new_group_enforce_role": "off",
                    "webui_url": None,
                    "reconciliation_initial_delay": 15000,
                    "reconciliation_interval": 600000,
                    "task_launch_timeout": 300000,
                    "task_reservation_timeout": 20000,
                    "features": ["vips", "task_killing", "external_volumes"],
                    "decline_offer_duration": 120000,
                    "default_network_name": "dcos",
                    "launch_token": 100,
                    "launch_token_refresh_interval": 30000,
                    "max_instances_per_offer": 100,
                    "mesos_bridge_name": "mesos-bridge",
                    "mesos_heartbeat_failure_threshold": 5,
                    "mesos_heartbeat_interval": 15000,
                    "min_revive_offers_interval": 5000,
                    "offer_matching_timeout": 3000,
                    "on_elected_prepare_timeout": 180000,
                    "revive_offers_for_new_apps": True,
                    "revive_offers_repetitions": 3,
                    "scale_apps_initial_delay": 15000,
                    "scale_apps_interval": 300000,
                    "store_cache": True,
                    "task_launch_confirm_timeout": 300000,
                    "task_lost_expunge_initial_delay": 300000,
                    "task_lost_expunge_interval": 30000,
                },
                "zookeeper_config": {
                    "zk": "zk://127.0.0.1:2181/marathon",
                    "zk_compression": True,
                    "zk_compression_threshold": 65536,
                    "zk_connection_timeout": 10000,
                    "zk_max_node_size": 1024000,
                    "zk_max_versions": 50,
                    "zk_session_timeout": 10000,
                    "zk_timeout": 10000,
                },
                "http_config": {"http_port": port, "https_port": 8443},
            },
        )

    # ---- events ------------------------------------------------------------------------

    def events(self, request: Request) -> Response | StreamResponse:
        if "text/event-stream" not in request.headers.get("accept", ""):
            return method_not_allowed()
        wanted = frozenset(request.query.get("event_type", []))
        bus = self.cluster.events
        queue = bus.subscribe(wanted)
        if not wanted or "event_stream_attached" in wanted:
            # published on the bus as Marathon does, so other subscribers see it too
            bus.publish("event_stream_attached", remoteAddress=request.client_ip)

        async def stream(writer: StreamWriter) -> None:
            watcher = asyncio.get_running_loop().create_task(writer.closed())
            watcher.add_done_callback(lambda _: queue.put_nowait(None))
            try:
                while True:
                    frame = await queue.get()
                    if frame is None:
                        return
                    await writer.send(frame)
            except (ConnectionError, RuntimeError):
                return
            finally:
                bus.unsubscribe(queue)
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher
                if not wanted or "event_stream_detached" in wanted:
                    bus.publish("event_stream_detached", remoteAddress=request.client_ip)

        return StreamResponse(stream, "text/event-stream")


def _seconds(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def _split_labels(value: str) -> list[str]:
    """Split a label selector on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _label_matches(labels: dict[str, str], selector: str) -> bool:
    match = re.fullmatch(r"\s*([^!=\s]+)\s+(in|notin)\s+\((.*)\)\s*", selector)
    if match:
        key, operator, values = match.groups()
        options = {v.strip() for v in values.split(",")}
        return (labels.get(key) in options) == (operator == "in") and (
            key in labels or operator == "notin"
        )
    if "!=" in selector:
        key, value = (s.strip() for s in selector.split("!=", 1))
        return labels.get(key) != value
    if "==" in selector:
        key, value = (s.strip() for s in selector.split("==", 1))
        return labels.get(key) == value
    return selector.strip() in labels
