"""The infrastructure cache: the one place that turns provider dataclasses into rows.

Reads happen outside any transaction; each write then takes its region's status row and
keeps only what is newer than what is stored (`read_at`), so the beat refresh, several
watchers and on-demand refreshes may run at once in any order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from providers.dcos import model as dcos
from providers.dcos.config import RegionConfig
from providers.dcos.marathon import MarathonClient, client_for
from providers.dcos.metronome import MetronomeClient
from providers.dcos.naming import MarathonAppId
from providers.dcos.transport import DcosError
from spinui.models import Instance, Region, RegionStatus, ServerGroup

log = logging.getLogger(__name__)

# Env values under names like these are credentials people put inline; they never reach the
# cache, so no page, API answer or log can show them.
SECRET_NAME = re.compile(r"pass|secret|token|key|credential|private|auth|cookie", re.IGNORECASE)
HIDDEN = "••••••"
HEALTHS = (dcos.UP, dcos.DOWN, dcos.STARTING, dcos.UNKNOWN, dcos.SUCCEEDED, dcos.FAILED)


def region_config(region: Region) -> RegionConfig:
    return RegionConfig(
        account=region.account.name,
        cluster=region.name,
        url=region.url,
        marathon_path=region.marathon_path,
        metronome_path=region.metronome_path,
        ca_certificate=region.ca_certificate,
        skip_tls_verify=region.skip_tls_verify,
        auth_type=region.auth_type,
        uid=region.uid,
        secret=region.secret,
        connect_timeout=settings.SPINUI_DCOS_CONNECT_TIMEOUT,
        read_timeout=settings.SPINUI_DCOS_READ_TIMEOUT,
        retries=settings.SPINUI_DCOS_RETRIES,
    )


def marathon_for(region: Region) -> MarathonClient:
    return client_for(region_config(region))


def metronome_for(region: Region) -> MetronomeClient:
    """Metronome (and Mesos) of a region, over the same session and token as its Marathon."""
    marathon = marathon_for(region)
    return MetronomeClient(marathon.config, marathon.transport)


def without_secrets(definition: dict[str, Any]) -> dict[str, Any]:
    """The app definition with env values that look like credentials hidden; a Marathon
    secret reference (`{"secret": "<name>"}`) names a secret and stays."""
    env = definition.get("env") or {}
    hidden = {
        name: HIDDEN if isinstance(value, str) and SECRET_NAME.search(name) else value
        for name, value in env.items()
    }
    return {**definition, "env": hidden} if env else dict(definition)


def _squares(server_group: dcos.ServerGroup) -> list[dict[str, Any]]:
    return [
        {
            "id": task.id,
            "health": task.health,
            "host": task.host,
            "port": task.ports[0] if task.ports else None,
        }
        for task in sorted(server_group.tasks, key=lambda t: (t.started_at is None, t.id))
    ]


def _row_fields(server_group: dcos.ServerGroup) -> dict[str, Any]:
    counts = {health: 0 for health in HEALTHS}
    for task in server_group.tasks:
        counts[task.health] = counts.get(task.health, 0) + 1
    return {
        "account_name": server_group.account,
        "application": server_group.application,
        "cluster": server_group.cluster,
        "stack": server_group.stack,
        "detail": server_group.detail,
        "sequence": server_group.sequence,
        "name": server_group.name,
        "region_name": server_group.region,
        "managed": server_group.managed,
        "image": server_group.image,
        "instances": server_group.instances,
        "tasks_running": server_group.tasks_running,
        "tasks_healthy": server_group.tasks_healthy,
        "tasks_unhealthy": server_group.tasks_unhealthy,
        "tasks_staged": server_group.tasks_staged,
        "cpus": server_group.cpus,
        "mem": server_group.mem,
        "disk": server_group.disk,
        "gpus": server_group.gpus,
        "disabled": server_group.disabled,
        "deployment_ids": [d.id for d in server_group.deployments],
        "version": server_group.version,
        "last_config_change_at": server_group.last_config_change_at,
        "health_counts": {k: v for k, v in counts.items() if v},
        "instance_squares": _squares(server_group),
        "last_task_failure": server_group.last_task_failure,
        "definition": without_secrets(server_group.definition),
    }


def _instance_rows(row: ServerGroup, server_group: dcos.ServerGroup) -> list[Instance]:
    return [
        Instance(
            server_group=row,
            task_id=task.id,
            state=task.state,
            health=task.health,
            host=task.host,
            ports=list(task.ports),
            ip_addresses=list(task.ip_addresses),
            version=task.version,
            staged_at=task.staged_at,
            started_at=task.started_at,
            health_checks=list(task.health_checks),
        )
        for task in server_group.tasks
    ]


def _digest(fields: dict[str, Any], server_group: dcos.ServerGroup) -> str:
    # Instances (their states, health, ports) change the digest through the squares; the
    # rest of each task is compared here so a new start time or version counts too.
    tasks = [
        (t.id, t.state, t.version, str(t.started_at), t.health_checks) for t in server_group.tasks
    ]
    text = json.dumps([fields, tasks], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Stored:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def _store(
    region: Region,
    read_at: datetime,
    server_groups: Iterable[dcos.ServerGroup],
    *,
    app_ids: Iterable[str] | None,
) -> Stored:
    """Write what one read returned. APP_IDS None: the read saw the whole region (rows it did
    not see are gone); otherwise it saw exactly those apps."""
    stored = Stored()
    server_groups = list(server_groups)
    now = timezone.now()
    with transaction.atomic():
        status, created = RegionStatus.objects.select_for_update().get_or_create(region=region)
        if app_ids is None and status.read_at and status.read_at > read_at:
            stored.skipped = True
            return stored
        rows = ServerGroup.objects.filter(region=region)
        if app_ids is not None:
            rows = rows.filter(marathon_id__in=list(app_ids))
        existing = {
            marathon_id: (pk, digest, row_read_at)
            for marathon_id, pk, digest, row_read_at in rows.values_list(
                "marathon_id", "pk", "digest", "read_at"
            )
        }
        new_rows: list[tuple[ServerGroup, dcos.ServerGroup]] = []
        replaced: list[tuple[int, dcos.ServerGroup]] = []
        for server_group in server_groups:
            fields = _row_fields(server_group)
            digest = _digest(fields, server_group)
            old = existing.pop(server_group.app_id, None)
            if old is None:
                row = ServerGroup(
                    region=region,
                    marathon_id=server_group.app_id,
                    digest=digest,
                    read_at=read_at,
                    changed_at=now,
                    **fields,
                )
                new_rows.append((row, server_group))
            elif old[2] <= read_at and old[1] != digest:
                ServerGroup.objects.filter(pk=old[0]).update(
                    digest=digest, read_at=read_at, changed_at=now, **fields
                )
                replaced.append((old[0], server_group))
        gone = [pk for pk, _, row_read_at in existing.values() if row_read_at <= read_at]
        if gone:
            ServerGroup.objects.filter(pk__in=gone).delete()
        if new_rows:
            ServerGroup.objects.bulk_create([row for row, _ in new_rows])
        if replaced:
            Instance.objects.filter(server_group_id__in=[pk for pk, _ in replaced]).delete()
        instances = [i for row, sg in new_rows for i in _instance_rows(row, sg)]
        instances += [i for pk, sg in replaced for i in _instance_rows(ServerGroup(pk=pk), sg)]
        if instances:
            Instance.objects.bulk_create(instances, batch_size=500)
        # Rows that did not change were read now too: an older read must not overwrite them.
        seen = [sg.app_id for sg in server_groups]
        ServerGroup.objects.filter(region=region, marathon_id__in=seen, read_at__lt=read_at).update(
            read_at=read_at
        )
        stored.created, stored.updated, stored.deleted = len(new_rows), len(replaced), len(gone)
        recovered = bool(status.error)
        if app_ids is None:
            status.read_at = read_at
        status.last_seen_at = now
        status.error = ""
        if recovered or stored.changed or created:
            status.changed_at = now
        status.save()
    return stored


def _failed(region: Region, read_at: datetime, error: DcosError) -> None:
    with transaction.atomic():
        status, _ = RegionStatus.objects.select_for_update().get_or_create(region=region)
        if status.read_at and status.read_at > read_at:
            return
        status.failed_at = timezone.now()
        if status.error != error.message:
            status.error = error.message
            status.changed_at = status.failed_at
        status.save()


def region_refresh(*, region: Region) -> Stored | None:
    """Read every server group of the region's account from its Marathon and store them;
    None when the region could not be read (its status then says why)."""
    read_at = timezone.now()
    try:
        server_groups = marathon_for(region).server_groups(region.account.name)
    except DcosError as error:
        log.warning("refreshing %s failed: %s", region, error.message)
        _failed(region, read_at, error)
        return None
    return _store(region, read_at, server_groups, app_ids=None)


def server_groups_refresh(*, region: Region, app_ids: Iterable[str]) -> Stored | None:
    """Read just these Marathon apps (those an event named) and store them."""
    prefix = f"/{region.account.name}/"
    wanted = sorted({a for a in app_ids if a.startswith(prefix) and MarathonAppId.parse(a)})
    if not wanted:
        return Stored()
    read_at = timezone.now()
    marathon = marathon_for(region)
    try:
        found = [marathon.server_group(app_id) for app_id in wanted]
    except DcosError as error:
        log.warning("refreshing %s of %s failed: %s", ", ".join(wanted), region, error.message)
        _failed(region, read_at, error)
        return None
    return _store(region, read_at, [sg for sg in found if sg is not None], app_ids=wanted)


def regions_refresh() -> dict[str, Stored | None]:
    return {
        str(region): region_refresh(region=region)
        for region in Region.objects.select_related("account")
    }


# Reading the cache


def application_stamp(application: str) -> str:
    """Changes whenever anything the application's clusters page shows changes: the
    cheap check behind live polling (two aggregate queries)."""
    server_groups = ServerGroup.objects.filter(application=application).aggregate(
        count=Count("id"), changed=Max("changed_at")
    )
    regions = RegionStatus.objects.aggregate(changed=Max("changed_at"), count=Count("id"))
    text = json.dumps([server_groups, regions], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]
