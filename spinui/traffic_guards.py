"""Traffic guards (Spinnaker's `trafficGuards` application attribute, TrafficGuard.java).

An operation that would leave a guarded cluster with zero Up instances in a region is
refused, unless the cluster has none Up already (nothing left to protect).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from providers.dcos.model import UP, ServerGroup
from spinui.models import Application

KEYS = ("account", "location", "stack", "detail")


def guards_of(application: Application) -> list[dict[str, Any]]:
    guards = (application.attributes or {}).get("trafficGuards") or []
    return [g for g in guards if isinstance(g, dict)]


def guard_errors(guards: Any) -> list[tuple[str, str]]:
    """(JSON path, message) for each malformed guard."""
    if guards is None:
        return []
    if not isinstance(guards, list):
        return [("/trafficGuards", "give a list of {account, location, stack, detail, enabled}")]
    errors = []
    for index, guard in enumerate(guards):
        if not isinstance(guard, dict):
            errors.append((f"/trafficGuards/{index}", "give an object"))
            continue
        for key in ("account", "location"):
            if not isinstance(guard.get(key), str) or not guard[key]:
                errors.append((f"/trafficGuards/{index}/{key}", "give a name or *"))
        for key in ("stack", "detail"):
            if guard.get(key) is not None and not isinstance(guard[key], str):
                errors.append((f"/trafficGuards/{index}/{key}", "give text, * or nothing"))
    return errors


def _field_matches(rule: Any, value: str) -> bool:
    # ClusterMatcher: "*" matches anything; otherwise equal, a missing value being "".
    rule = rule or ""
    return rule == "*" or rule == (value or "")


def matching_guard(
    application: Application, account: str, region: str, stack: str, detail: str
) -> dict[str, Any] | None:
    for guard in guards_of(application):
        if guard.get("enabled", True) is False:
            continue
        values = {"account": account, "location": region, "stack": stack, "detail": detail}
        if all(_field_matches(guard.get(key), values[key]) for key in KEYS):
            return guard
    return None


def describe(guard: Mapping[str, Any]) -> str:
    return "/".join(str(guard.get(key) or "-") for key in KEYS)


def up_count(server_group: ServerGroup) -> int:
    return sum(1 for task in server_group.tasks if task.health == UP)


def refusal(
    application: Application,
    cluster: Iterable[ServerGroup],
    future_up: Mapping[str, int],
) -> str | None:
    """Why the operation must not run, or None. CLUSTER: every server group of one cluster
    in one region; FUTURE_UP: the Up instances each affected one (by name) will have."""
    cluster = list(cluster)
    if not cluster:
        return None
    sample = cluster[0]
    guard = matching_guard(application, sample.account, sample.region, sample.stack, sample.detail)
    if guard is None:
        return None
    current = sum(up_count(sg) for sg in cluster)
    if current == 0:
        return None
    future = sum(future_up.get(sg.name, up_count(sg)) for sg in cluster)
    if future > 0:
        return None
    return (
        f"traffic guard {describe(guard)} protects cluster {sample.cluster} in "
        f"{sample.account}/{sample.region}: this would leave it with no Up instances "
        f"(it has {current} now)"
    )
