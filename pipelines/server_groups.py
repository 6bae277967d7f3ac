"""What the server-group stages share: the region of a context, permissions, targets,
reserved names and remembered capacities (DESIGN.md "The engine", external side effects)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from pipelines.models import DisabledCapacity, ReservedName
from providers.dcos.marathon import MarathonClient
from providers.dcos.metronome import MetronomeClient
from providers.dcos.model import ServerGroup
from providers.dcos.naming import MarathonAppId, NamingError, ServerGroupName, parse_region
from providers.dcos.operations import Operations
from spinui.infrastructure import marathon_for, metronome_for, server_groups_refresh
from spinui.models import Account, Application, Region
from spinui.permissions import READ, WRITE, user_can

TARGETS = ("current_asg_dynamic", "ancestor_asg_dynamic", "oldest_asg_dynamic")
TARGET_WORDS = {
    "current_asg_dynamic": "newest",
    "ancestor_asg_dynamic": "previous",
    "oldest_asg_dynamic": "oldest",
}


class OperationError(Exception):
    """The operation cannot go ahead; the message says why, for the stage's error."""


def account_of(context: dict[str, Any]) -> str:
    return str(context.get("credentials") or context.get("account") or "")


def regions_of(context: dict[str, Any]) -> list[str]:
    regions = context.get("regions")
    if isinstance(regions, list) and regions:
        return [str(r) for r in regions]
    return [str(context["region"])] if context.get("region") else []


def place_errors(account: Any, account_path: str, regions: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, message) for an account or a region that does not exist, checked when a
    pipeline is saved. REGIONS maps each region's JSON path to its value; a value that is an
    expression is left to the stage's start."""
    if not isinstance(account, str) or not account or "${" in account:
        return []
    found = Account.objects.filter(name=account).first()
    if found is None:
        return [(account_path, f"no account {account!r}")]
    known = set(found.regions.values_list("name", flat=True))
    errors = []
    for where, region in regions.items():
        if not isinstance(region, str) or "${" in region:
            continue
        try:
            cluster, _ = parse_region(region)
        except NamingError as error:
            errors.append((where, str(error)))
            continue
        if cluster not in known:
            errors.append((where, f"account {account!r} has no region {cluster!r}"))
    return errors


def region_row(account: str, region: str) -> Region:
    try:
        cluster, _ = parse_region(region)
    except NamingError as error:
        raise OperationError(str(error)) from None
    row = (
        Region.objects.select_related("account").filter(account__name=account, name=cluster).first()
    )
    if row is None:
        raise OperationError(f"account {account!r} has no region {cluster!r}")
    return row


def marathon(account: str, region: str) -> MarathonClient:
    return marathon_for(region_row(account, region))


def metronome(account: str, region: str) -> MetronomeClient:
    return metronome_for(region_row(account, region))


def operations(account: str, region: str) -> Operations:
    return Operations(marathon(account, region))


def check_may_write(run_as: str, application: str, account: str) -> Application:
    """The execution's identity needs WRITE on the application and on the account."""
    return _check_may(WRITE, run_as, application, account)


def check_may_read(run_as: str, application: str, account: str) -> Application:
    """A stage that only looks (find image, cluster size) needs READ on both."""
    return _check_may(READ, run_as, application, account)


def _check_may(level: str, run_as: str, application: str, account: str) -> Application:
    verbs = {WRITE: ("change", "deploy into"), READ: ("see", "read")}[level]
    user = get_user_model().objects.filter(username=run_as).first()
    app = Application.objects.filter(name=application).first()
    if app is None:
        raise OperationError(f"no application {application!r}")
    if user is None or not user_can(user, level, app):
        raise OperationError(f"{run_as} may not {verbs[0]} {application} ({level.upper()} needed)")
    found = Account.objects.filter(name=account).first()
    if found is None:
        raise OperationError(f"no account {account!r}")
    if not user_can(user, level, found):
        raise OperationError(
            f"{run_as} may not {verbs[1]} account {account} ({level.upper()} needed)"
        )
    return app


def cluster_in_region(account: str, region: str, cluster: str) -> list[ServerGroup]:
    """Every managed server group of CLUSTER in REGION, newest first, read from Marathon."""
    found = [
        sg
        for sg in marathon(account, region).server_groups(account)
        if sg.region == region and sg.cluster == cluster
    ]
    return sorted(found, key=newest_first)


def newest_first(server_group: ServerGroup) -> tuple:
    changed = server_group.last_config_change_at
    return (
        -(changed.timestamp() if changed else 0),
        -(server_group.sequence if server_group.sequence is not None else -1),
    )


@dataclass(frozen=True)
class Target:
    account: str
    region: str
    name: str
    app_id: str

    def as_json(self) -> dict[str, str]:
        return {
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "appId": self.app_id,
        }

    @classmethod
    def from_json(cls, value: dict[str, str]) -> Target:
        return cls(value["account"], value["region"], value["name"], value["appId"])


def resolve(context: dict[str, Any], application: str) -> list[Target]:
    """The server groups a stage acts on: `serverGroupName` (or `asgName`) in each region,
    or the `target` of `cluster` in each region. Names the target that resolves to nothing."""
    account = account_of(context)
    targets = []
    for region in regions_of(context):
        name = context.get("serverGroupName") or context.get("asgName")
        if name:
            try:
                app_id = MarathonAppId.build(account, region, str(name))
            except NamingError as error:
                raise OperationError(str(error)) from None
            server_group = marathon(account, region).server_group(str(app_id))
            if server_group is None:
                raise OperationError(f"server group {name} does not exist in {account}/{region}")
        else:
            cluster, target = str(context.get("cluster") or ""), context.get("target")
            found = cluster_in_region(account, region, cluster)
            found = [sg for sg in found if sg.managed]
            index = {"current_asg_dynamic": 0, "ancestor_asg_dynamic": 1}.get(target, -1)
            if not found or (index == 1 and len(found) < 2):
                raise OperationError(
                    f"target {target} ({TARGET_WORDS.get(target, target)} server group) of "
                    f"cluster {cluster} resolves to nothing in {account}/{region}"
                )
            server_group = found[index]
        if server_group.application != application:
            raise OperationError(
                f"{server_group.name} belongs to application "
                f"{server_group.application or '(none)'}, not {application}"
            )
        if not server_group.managed:
            raise OperationError(f"{server_group.name} was not named by spinui; it is not touched")
        targets.append(Target(account, region, server_group.name, server_group.app_id))
    if not targets:
        raise OperationError("give the region (or regions) to act in")
    return targets


def refresh_cache(targets: list[Target]) -> None:
    """Show the result at once instead of at the next refresh; a failure only delays that."""
    for target in targets:
        with contextlib.suppress(OperationError):
            server_groups_refresh(
                region=region_row(target.account, target.region), app_ids=[target.app_id]
            )


# Names


def reserve_name(
    *, account: str, region: str, cluster: ServerGroupName, operation_id: str
) -> MarathonAppId:
    """The name this create will use: the one it reserved before, or the next free one of
    the cluster, taken as a unique row (a concurrent create gets the one after)."""
    taken = ReservedName.objects.filter(operation_id=operation_id).first()
    if taken is not None:
        return MarathonAppId.build(account, region, taken.name)
    proposed = marathon(account, region).next_server_group_name(account, region, cluster)
    sequence = ServerGroupName.parse(proposed.name).sequence
    for _ in range(1000):
        name = str(cluster.with_sequence(sequence))
        try:
            with transaction.atomic():
                ReservedName.objects.create(
                    account=account, region=region, name=name, operation_id=operation_id
                )
        except IntegrityError:
            again = ReservedName.objects.filter(operation_id=operation_id).first()
            if again is not None:  # the same create, redelivered, got there first
                return MarathonAppId.build(account, region, again.name)
            sequence = (sequence + 1) % 1000
            continue
        return MarathonAppId.build(account, region, name)
    raise OperationError(f"every sequence number of cluster {cluster.cluster} is reserved")


def release_name(operation_id: str) -> None:
    ReservedName.objects.filter(operation_id=operation_id).delete()


def forget(target: Target) -> None:
    """A destroyed server group's name and capacity are free again."""
    ReservedName.objects.filter(
        account=target.account, region=target.region, name=target.name
    ).delete()
    DisabledCapacity.objects.filter(
        account=target.account, region=target.region, name=target.name
    ).delete()


def remember_capacity(target: Target, instances: int) -> None:
    if instances <= 0:
        return  # a retried disable must not overwrite what the first one remembered
    DisabledCapacity.objects.update_or_create(
        account=target.account,
        region=target.region,
        name=target.name,
        defaults={"instances": instances},
    )


def remembered_capacity(target: Target) -> int | None:
    row = DisabledCapacity.objects.filter(
        account=target.account, region=target.region, name=target.name
    ).first()
    return row.instances if row else None
