"""Pages of the infrastructure cache: clusters, server groups, and testing a region.

They read only the cache (spinui/infrastructure.py fills it), never a DC/OS cluster,
except "test connection", which is exactly a call to one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from providers.dcos.marathon import MarathonClient
from providers.dcos.model import DOWN, FAILED, STARTING, UNKNOWN, UP
from providers.dcos.transport import DcosError
from spinui.infrastructure import application_stamp, region_config
from spinui.models import Account, Application, Region, RegionStatus, ServerGroup
from spinui.permissions import get_application_for, visible
from spinui.views import HtmxHttpRequest, admin_required

STATUSES = ("up", "down", "starting", "disabled", "deploying", "unmanaged")
# A square's class: Succeeded counts as unknown, Failed as down.
SQUARE = {UP: "up", DOWN: "down", FAILED: "down", STARTING: "starting", UNKNOWN: "unknown"}
LIST_FIELDS = (
    "id",
    "region_id",
    "account_name",
    "application",
    "cluster",
    "stack",
    "detail",
    "sequence",
    "name",
    "region_name",
    "managed",
    "image",
    "instances",
    "tasks_running",
    "disabled",
    "deployment_ids",
    "last_config_change_at",
    "health_counts",
    "instance_squares",
)


@dataclass
class Filters:
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    stacks: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    query: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> Filters:
        return cls(
            accounts=[a for a in query.getlist("account") if a],
            regions=[r for r in query.getlist("region") if r],
            stacks=[s for s in query.getlist("stack") if s],
            statuses=[s for s in query.getlist("status") if s in STATUSES],
            query=query.get("q", "").strip().lower(),
        )

    @property
    def active(self) -> bool:
        return bool(self.accounts or self.regions or self.stacks or self.statuses or self.query)

    def key(self) -> str:
        return self.query_string()

    def query_string(self) -> str:
        pairs = [("account", a) for a in self.accounts]
        pairs += [("region", r) for r in self.regions]
        pairs += [("stack", s) for s in self.stacks]
        pairs += [("status", s) for s in self.statuses]
        if self.query:
            pairs.append(("q", self.query))
        return urlencode(pairs)

    def admits(self, server_group: ServerGroup) -> bool:
        if self.accounts and server_group.account_name not in self.accounts:
            return False
        if self.regions and server_group.region_name not in self.regions:
            return False
        if self.stacks and server_group.stack not in self.stacks:
            return False
        if self.statuses and not any(_has_status(server_group, s) for s in self.statuses):
            return False
        if self.query:
            text = f"{server_group.name} {server_group.image} {server_group.region_name}"
            if self.query not in text.lower():
                return False
        return True


def _has_status(server_group: ServerGroup, status: str) -> bool:
    counts = server_group.health_counts
    if status == "up":
        return counts.get(UP, 0) > 0
    if status == "down":
        return bool(counts.get(DOWN, 0) or counts.get(FAILED, 0))
    if status == "starting":
        return counts.get(STARTING, 0) > 0
    if status == "disabled":
        return server_group.disabled
    if status == "deploying":
        return server_group.deploying
    return not server_group.managed


@dataclass
class RegionRow:
    name: str
    server_groups: list[ServerGroup]


@dataclass
class ClusterRow:
    account: str
    name: str
    regions: list[RegionRow]
    open: bool = True

    @property
    def key(self) -> str:
        return f"{self.account}:{self.name}"

    @property
    def server_groups(self) -> list[ServerGroup]:
        return [sg for region in self.regions for sg in region.server_groups]

    @property
    def health(self) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for server_group in self.server_groups:
            for health, count in server_group.health_counts.items():
                counts[SQUARE.get(health, "unknown")] += count
        return [
            (kind, counts[kind]) for kind in ("up", "down", "starting", "unknown") if counts[kind]
        ]


@dataclass
class AccountRow:
    name: str
    clusters: list[ClusterRow]


def _grouped(
    server_groups: list[ServerGroup], open_keys: set[str], collapse: bool
) -> list[AccountRow]:
    """account → cluster → region → server groups, newest first."""
    tree: dict[str, dict[str, dict[str, list[ServerGroup]]]] = {}
    for sg in server_groups:
        tree.setdefault(sg.account_name, {}).setdefault(sg.cluster, {}).setdefault(
            sg.region_name, []
        ).append(sg)
    accounts = []
    for account in sorted(tree):
        clusters = []
        for cluster in sorted(tree[account]):
            regions = [
                RegionRow(region, sorted(groups, key=_newest_first))
                for region, groups in sorted(tree[account][cluster].items())
            ]
            row = ClusterRow(account, cluster, regions)
            row.open = not collapse or row.key in open_keys
            clusters.append(row)
        accounts.append(AccountRow(account, clusters))
    return accounts


def _newest_first(server_group: ServerGroup) -> tuple:
    """By last config change (Deck's createdTime), then sequence: v000 after v999 is newer."""
    changed = server_group.last_config_change_at
    return (
        -(changed.timestamp() if isinstance(changed, datetime) else 0),
        -(server_group.sequence if server_group.sequence is not None else -1),
        server_group.name,
    )


def _server_groups_for(user, application: Application):
    readable = list(visible(user, Account).values_list("name", flat=True))
    return (
        ServerGroup.objects.for_application(application.name)
        .filter(account_name__in=readable)
        .only(*LIST_FIELDS)
    )


def _etag(*parts: str) -> str:
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24] + '"'


@login_required
@require_GET
def clusters(request: HtmxHttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name)
    filters = Filters.from_query(request.GET)
    etag = _etag(application_stamp(application.name), filters.key(), str(request.user.pk))
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    expanded = request.GET.get("cluster")
    if expanded:
        # One collapsed cluster asked for its server groups (htmx on expand).
        account, _, cluster = expanded.partition(":")
        rows = _server_groups_for(request.user, application).filter(
            account_name=account, cluster=cluster
        )
        shown = [sg for sg in rows if filters.admits(sg)]
        tree = _grouped(shown, set(), collapse=False)
        if not tree:
            raise Http404(f"No cluster {expanded!r} in {name}.")
        return render(
            request,
            "spinui/clusters.html#cluster-body",
            {"application": application, "cluster": tree[0].clusters[0]},
        )
    rows = list(_server_groups_for(request.user, application))
    open_keys = set(request.GET.getlist("open"))
    shown = [sg for sg in rows if filters.admits(sg)]
    cluster_count = len({(sg.account_name, sg.cluster) for sg in shown})
    collapse = cluster_count > settings.SPINUI_CLUSTERS_COLLAPSE_ABOVE
    context = {
        "application": application,
        "accounts": _grouped(shown, open_keys, collapse),
        "collapsed": collapse,
        "cluster_count": cluster_count,
        "server_group_count": len(shown),
        "total_count": len(rows),
        "filters": filters,
        "choices": [
            ("account", _choices({sg.account_name for sg in rows}, filters.accounts)),
            ("region", _choices({sg.region_name for sg in rows}, filters.regions)),
            ("stack", _choices({sg.stack for sg in rows if sg.stack}, filters.stacks)),
            ("status", [(s, s in filters.statuses) for s in STATUSES]),
        ],
        "query": filters.query_string(),
        "collapse_above": settings.SPINUI_CLUSTERS_COLLAPSE_ABOVE,
        "problems": _region_problems(request.user),
        "etag": etag,
        "poll_seconds": settings.SPINUI_LIVE_POLL_SECONDS,
    }
    template = "spinui/clusters.html"
    if request.htmx:
        template += "#clusters"
    response = render(request, template, context)
    response["ETag"] = etag
    return response


def _choices(values: set[str], chosen: list[str]) -> list[tuple[str, bool]]:
    return [(value, value in chosen) for value in sorted(values)]


def _region_problems(user) -> list[RegionStatus]:
    """Unreachable regions of the accounts the user can see: their rows may be stale."""
    readable = visible(user, Account).values("pk")
    return list(
        RegionStatus.objects.filter(region__account__in=readable)
        .exclude(error="")
        .select_related("region__account")
        .order_by("region__account__name", "region__name")
    )


@login_required
@require_GET
def server_group_detail(
    request: HtmxHttpRequest, name: str, account: str, region: str, server_group: str
) -> HttpResponse:
    application = get_application_for(request.user, name)
    row = (
        ServerGroup.objects.filter(
            application=application.name,
            account_name=account,
            region_name=region,
            name=server_group,
        )
        .filter(account_name__in=visible(request.user, Account).values("name"))
        .select_related("region__status")
        .first()
    )
    if row is None:
        if request.htmx:
            # It was destroyed while the page was open: say so and stop polling.
            return HttpResponseStopPolling(
                f'<p class="gone">{server_group} no longer exists in {account}/{region}.</p>'
            )
        raise Http404(f"No server group {server_group!r} in {account}/{region}.")
    etag = _etag(str(row.pk), row.digest, str(row.changed_at))
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    definition = row.definition
    context = {
        "application": application,
        "server_group": row,
        "instances": row.instance_rows.all(),
        "definition": definition,
        "env": sorted((definition.get("env") or {}).items()),
        "labels": sorted((definition.get("labels") or {}).items()),
        "network": _network(definition),
        "status": getattr(row.region, "status", None),
        "etag": etag,
        "poll_seconds": settings.SPINUI_LIVE_POLL_SECONDS,
    }
    template = "spinui/server_group.html"
    if request.htmx:
        template += "#server-group"
    response = render(request, template, context)
    response["ETag"] = etag
    return response


def _network(definition: dict) -> dict:
    container = definition.get("container") or {}
    networks = definition.get("networks") or [{"mode": "host"}]
    mappings = container.get("portMappings") or (container.get("docker") or {}).get("portMappings")
    ports = []
    for port in mappings or definition.get("portDefinitions") or []:
        inside = f"{port['containerPort']}→" if port.get("containerPort") else ""
        outside = port.get("hostPort", port.get("port")) or "auto"
        name = f"{port['name']} " if port.get("name") else ""
        ports.append(f"{name}{inside}{outside}/{port.get('protocol', 'tcp')}")
    return {
        "modes": [
            n.get("mode", "host") + (f" ({n['name']})" if n.get("name") else "") for n in networks
        ],
        "ports": ports,
    }


@admin_required
@require_POST
def region_test(request: HtmxHttpRequest, name: str, region: str) -> HttpResponse:
    """Call the region's Marathon /v2/info with its credentials; say what came back."""
    instance = get_object_or_404(
        Region.objects.select_related("account"), account__name=name, name=region
    )
    marathon = MarathonClient(region_config(instance))
    try:
        info = marathon.info()
    except DcosError as error:
        result = {"ok": False, "message": error.message}
    else:
        leader = f", leader {info.leader}" if info.leader else ""
        result = {"ok": True, "message": f"Marathon {info.version}{leader}"}
    finally:
        marathon.close()
    if request.htmx:
        return render(request, "spinui/_region_test.html", {"region": instance, "result": result})
    (messages.success if result["ok"] else messages.error)(
        request, f"Region {instance}: {result['message']}"
    )
    return redirect("account_detail", name=name)
