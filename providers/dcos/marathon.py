"""Reading Marathon: server groups of an account in one root call, single apps, info, events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from providers.dcos.auth import auth_for
from providers.dcos.config import RegionConfig
from providers.dcos.model import (
    DOWN,
    FAILED,
    STARTING,
    SUCCEEDED,
    UNKNOWN,
    UP,
    Deployment,
    Instance,
    MarathonInfo,
    ServerGroup,
)
from providers.dcos.naming import MarathonAppId, ServerGroupName, next_sequence, parse_region
from providers.dcos.transport import NotFound, Transport

EMBEDS = ("apps.tasks", "apps.deployments", "apps.lastTaskFailure")
STATUS_FIELDS = frozenset(
    {
        "tasks",
        "deployments",
        "lastTaskFailure",
        "tasksStaged",
        "tasksRunning",
        "tasksHealthy",
        "tasksUnhealthy",
        "readinessCheckResults",
        "taskStats",
    }
)
DEFAULT_GRACE_SECONDS = 300


def parse_time(value: str | None) -> datetime | None:
    """Marathon's ISO 8601 UTC, with or without milliseconds (it drops `.000`)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def instance_health(
    task: dict[str, Any], health_checks: list[dict[str, Any]], now: datetime
) -> str:
    """Spinnaker's DcosInstance mapping, except that a deployment does not turn running
    tasks Down: old and new tasks keep their real health."""
    state = task.get("state")
    if state == "TASK_RUNNING":
        results = task.get("healthCheckResults") or []
        if any(result.get("alive") is False for result in results):
            return DOWN
        if not health_checks or (results and all(r.get("alive") for r in results)):
            return UP
        # Checks but no result yet: not the same as unhealthy (reference "Known gotchas").
        started = parse_time(task.get("startedAt"))
        grace = max(
            (check.get("gracePeriodSeconds", DEFAULT_GRACE_SECONDS) for check in health_checks),
        )
        if started and now - started < timedelta(seconds=grace):
            return STARTING
        return UNKNOWN
    if state == "TASK_STARTING":
        return STARTING
    if state == "TASK_FINISHED":
        return SUCCEEDED
    if state in ("TASK_FAILED", "TASK_ERROR", "TASK_DROPPED"):
        return FAILED
    if state in ("TASK_KILLED", "TASK_STAGING", "TASK_GONE"):
        return DOWN
    return UNKNOWN


def _image(app: dict[str, Any]) -> str:
    container = app.get("container") or {}
    docker = container.get("docker") or {}
    image = docker.get("image")
    if image:
        return image
    return (container.get("appc") or {}).get("image") or ""


def to_instance(task: dict[str, Any], app: dict[str, Any], now: datetime) -> Instance:
    return Instance(
        id=task["id"],
        app_id=task.get("appId", app["id"]),
        state=task.get("state", "TASK_UNKNOWN"),
        health=instance_health(task, app.get("healthChecks") or [], now),
        host=task.get("host", ""),
        ports=tuple(task.get("ports") or ()),
        ip_addresses=tuple(
            ip.get("ipAddress", "") for ip in task.get("ipAddresses") or () if isinstance(ip, dict)
        ),
        version=task.get("version", ""),
        staged_at=parse_time(task.get("stagedAt")),
        started_at=parse_time(task.get("startedAt")),
        health_checks=tuple(task.get("healthCheckResults") or ()),
    )


def to_server_group(
    app: dict[str, Any], cluster: str, now: datetime | None = None
) -> ServerGroup | None:
    """The server group of a Marathon app, or None when its id is not under an account."""
    app_id = MarathonAppId.parse(app["id"])
    if app_id is None:
        return None
    now = now or datetime.now(UTC)
    name = ServerGroupName.parse(app_id.name)
    version_info = app.get("versionInfo") or {}
    return ServerGroup(
        app_id=str(app_id),
        account=app_id.account,
        region=app_id.region(cluster),
        name=app_id.name,
        application=name.application if name else "",
        cluster=name.cluster if name else app_id.name,
        stack=name.stack if name else "",
        detail=name.detail if name else "",
        sequence=name.sequence if name else None,
        instances=int(app.get("instances", 0)),
        image=_image(app),
        cpus=float(app.get("cpus", 0) or 0),
        mem=float(app.get("mem", 0) or 0),
        disk=float(app.get("disk", 0) or 0),
        gpus=float(app.get("gpus", 0) or 0),
        version=app.get("version", ""),
        last_config_change_at=parse_time(version_info.get("lastConfigChangeAt")),
        last_scaling_at=parse_time(version_info.get("lastScalingAt")),
        tasks_staged=int(app.get("tasksStaged", 0)),
        tasks_running=int(app.get("tasksRunning", 0)),
        tasks_healthy=int(app.get("tasksHealthy", 0)),
        tasks_unhealthy=int(app.get("tasksUnhealthy", 0)),
        deployments=tuple(Deployment(d["id"]) for d in app.get("deployments") or () if "id" in d),
        tasks=tuple(to_instance(task, app, now) for task in app.get("tasks") or ()),
        last_task_failure=app.get("lastTaskFailure") or None,
        definition={k: v for k, v in app.items() if k not in STATUS_FIELDS},
    )


class MarathonClient:
    """Marathon of one region (a DC/OS cluster), reached through its admin router."""

    def __init__(self, config: RegionConfig, transport: Transport | None = None) -> None:
        self.config = config
        self.transport = transport or Transport(config, auth_for(config))

    def close(self) -> None:
        self.transport.close()

    def _path(self, path: str) -> str:
        return self.config.marathon_path.rstrip("/") + path

    def info(self) -> MarathonInfo:
        body = self.transport.get_json(self._path("/v2/info"))
        return MarathonInfo(
            version=str(body.get("version", "?")),
            leader=body.get("leader"),
            name=str(body.get("name", "")),
            elected=body.get("elected"),
        )

    def server_groups(self, account: str | None = None) -> list[ServerGroup]:
        """Every app under `/<account>/` (every app under any account when None), from one
        root call: Marathon's `id` filter is a substring match, so the prefix is ours."""
        body = self.transport.get_json(
            self._path("/v2/apps"), params=[("embed", e) for e in EMBEDS]
        )
        prefix = f"/{account}/" if account else "/"
        now = datetime.now(UTC)
        found = []
        for app in body.get("apps", []):
            if not app.get("id", "").startswith(prefix):
                continue
            server_group = to_server_group(app, self.config.cluster, now)
            if server_group is not None:
                found.append(server_group)
        return found

    def server_group(self, app_id: str) -> ServerGroup | None:
        """One app (with its tasks), or None when Marathon no longer has it."""
        try:
            body = self.transport.get_json(self._path("/v2/apps" + quote(app_id)))
        except NotFound:
            return None
        return to_server_group(body["app"], self.config.cluster)

    def next_server_group_name(
        self, account: str, region: str, cluster: ServerGroupName
    ) -> MarathonAppId:
        """The id for the next server group of CLUSTER in REGION, as Spinnaker picks it:
        from the apps of the region's group (`GET /v2/apps/<account>/<group…>/*`)."""
        _, groups = parse_region(region)
        group = "/" + "/".join((account, *groups))
        try:
            body = self.transport.get_json(self._path(f"/v2/apps{quote(group)}/*"))
        except NotFound:
            body = {}
        existing = []
        for app in body.get("*", []):
            app_id = MarathonAppId.parse(app.get("id", ""))
            name = ServerGroupName.parse(app_id.name) if app_id else None
            if app_id and app_id.group == group and name and name.cluster == cluster.cluster:
                changed = parse_time((app.get("versionInfo") or {}).get("lastConfigChangeAt"))
                existing.append((name, changed))
        name = cluster.with_sequence(next_sequence(existing))
        return MarathonAppId.build(account, region, str(name))

    def events(
        self, event_types: Iterable[str] = (), read_timeout: float = 60.0
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Marathon's `/v2/events` stream as (event type, payload), until it ends."""
        query = "&".join(f"event_type={quote(t)}" for t in event_types)
        path = self._path("/v2/events") + (f"?{query}" if query else "")
        for event, data in self.transport.events(path, read_timeout=read_timeout):
            try:
                payload = json.loads(data)
            except ValueError:
                continue
            yield payload.get("eventType", event), payload


_clients: dict[tuple[str, str], MarathonClient] = {}
_clients_lock = threading.Lock()


def client_for(config: RegionConfig) -> MarathonClient:
    """The client of a region, kept between calls so its session and token are reused;
    a changed config (new URL, credentials) gets a new one."""
    key = (config.account, config.cluster)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None and client.config == config:
            return client
        if client is not None:
            client.close()
        client = _clients[key] = MarathonClient(config)
        return client
