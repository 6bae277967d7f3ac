"""The infrastructure cache in Gate's shapes, for the JSON API.

Plain functions of the authenticated user: they return what becomes the JSON body and raise
Http404 (not visible) or PermissionDenied, which the API's view decorator maps to JSON errors.
Like the pages, they read only the cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, JsonResponse

from providers.dcos.model import DOWN, FAILED, STARTING, UP
from spinui.api import ApiRequest, api_view
from spinui.models import Account, Instance, ServerGroup
from spinui.permissions import get_application_for, visible

CLOUD_PROVIDER = "dcos"


def _millis(at: datetime | None) -> int | None:
    return int(at.timestamp() * 1000) if at else None


def _readable_accounts(user) -> list[str]:
    return list(visible(user, Account).values_list("name", flat=True))


def _instance_counts(server_group: ServerGroup) -> dict[str, int]:
    counts = server_group.health_counts
    return {
        "total": sum(counts.values()),
        "up": counts.get(UP, 0),
        "down": counts.get(DOWN, 0) + counts.get(FAILED, 0),
        "starting": counts.get(STARTING, 0),
        "unknown": sum(v for k, v in counts.items() if k not in (UP, DOWN, FAILED, STARTING)),
        "outOfService": 0,
    }


def _server_group_summary(server_group: ServerGroup) -> dict[str, Any]:
    return {
        "name": server_group.name,
        "type": CLOUD_PROVIDER,
        "cloudProvider": CLOUD_PROVIDER,
        "account": server_group.account_name,
        "region": server_group.region_name,
        "cluster": server_group.cluster,
        "application": server_group.application,
        "stack": server_group.stack,
        "detail": server_group.detail,
        "sequence": server_group.sequence,
        "managed": server_group.managed,
        "marathonId": server_group.marathon_id,
        "createdTime": _millis(server_group.last_config_change_at),
        "isDisabled": server_group.disabled,
        "deploying": server_group.deploying,
        "deploymentIds": server_group.deployment_ids,
        "image": server_group.image,
        "capacity": {
            "min": server_group.instances,
            "max": server_group.instances,
            "desired": server_group.instances,
        },
        "instanceCounts": _instance_counts(server_group),
        "instances": [
            {
                "name": square["id"],
                "id": square["id"],
                "healthState": square["health"],
                "host": square["host"],
                "port": square["port"],
            }
            for square in server_group.instance_squares
        ],
    }


def clusters(user, application: str) -> dict[str, list[str]]:
    """GET /applications/{app}/clusters: cluster names by account."""
    app = get_application_for(user, application)
    found: dict[str, list[str]] = {}
    pairs = (
        ServerGroup.objects.for_application(app.name)
        .filter(account_name__in=_readable_accounts(user))
        .values_list("account_name", "cluster")
        .distinct()
        .order_by("account_name", "cluster")
    )
    for account, cluster in pairs:
        found.setdefault(account, []).append(cluster)
    return found


def server_groups(user, application: str) -> list[dict[str, Any]]:
    """GET /applications/{app}/serverGroups: every server group, newest first per cluster."""
    app = get_application_for(user, application)
    rows = (
        ServerGroup.objects.for_application(app.name)
        .filter(account_name__in=_readable_accounts(user))
        .defer("definition", "last_task_failure")
        .newest_first()
    )
    return [_server_group_summary(row) for row in rows]


def _server_group_for(user, account: str, region: str, name: str) -> ServerGroup:
    """The cached server group, if the user may READ its account and its application;
    an app that is not any application's is only an admin's to see."""
    row = ServerGroup.objects.filter(
        account_name=account,
        region_name=region,
        name=name,
        account_name__in=_readable_accounts(user),
    ).first()
    if row is None:
        raise Http404(f"No server group {name!r} in {account}/{region}.")
    if not user.is_superuser:
        get_application_for(user, row.application or name)
    return row


def server_group(user, account: str, region: str, name: str) -> dict[str, Any]:
    """GET /serverGroups/{account}/{region}/{name}: the summary, the app definition (secret
    env values hidden), the instances and the last task failure."""
    row = _server_group_for(user, account, region, name)
    return {
        **_server_group_summary(row),
        "resources": {"cpus": row.cpus, "mem": row.mem, "disk": row.disk, "gpus": row.gpus},
        "version": row.version,
        "lastTaskFailure": row.last_task_failure,
        "definition": row.definition,
        "instances": [_instance(row, instance) for instance in row.instance_rows.all()],
    }


def _instance(row: ServerGroup, instance: Instance) -> dict[str, Any]:
    return {
        "name": instance.task_id,
        "id": instance.task_id,
        "account": row.account_name,
        "region": row.region_name,
        "zone": row.region_name.split("_")[0],
        "serverGroup": row.name,
        "cloudProvider": CLOUD_PROVIDER,
        "state": instance.state,
        "healthState": instance.health,
        "health": [
            {
                "type": "MarathonHealthCheck",
                "state": instance.health,
                "results": instance.health_checks,
            }
        ],
        "host": instance.host,
        "ports": instance.ports,
        "ipAddresses": instance.ip_addresses,
        "version": instance.version,
        "launchTime": _millis(instance.started_at),
        "stagedTime": _millis(instance.staged_at),
    }


def instance(user, account: str, region: str, instance_id: str) -> dict[str, Any]:
    """GET /instances/{account}/{region}/{instanceId}."""
    found = (
        Instance.objects.filter(
            task_id=instance_id,
            server_group__account_name=account,
            server_group__region_name=region,
        )
        .select_related("server_group")
        .first()
    )
    if found is None:
        raise Http404(f"No instance {instance_id!r} in {account}/{region}.")
    row = _server_group_for(user, account, region, found.server_group.name)
    return _instance(row, found)


# Routes (spinui/api_urls.py; described in spinui/openapi.py)


@api_view("GET")
def application_clusters(request: ApiRequest, name: str) -> JsonResponse:
    return JsonResponse(clusters(request.user, name))


@api_view("GET")
def application_server_groups(request: ApiRequest, name: str) -> JsonResponse:
    return JsonResponse(server_groups(request.user, name), safe=False)


@api_view("GET")
def server_group_detail(request: ApiRequest, account: str, region: str, name: str) -> JsonResponse:
    return JsonResponse(server_group(request.user, account, region, name))


@api_view("GET")
def instance_detail(
    request: ApiRequest, account: str, region: str, instanceId: str
) -> JsonResponse:
    return JsonResponse(instance(request.user, account, region, instanceId))
