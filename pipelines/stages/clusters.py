"""Cluster stages: shrink, disable, scale down and roll back a cluster in each region.

Each picks server groups of the cluster the way Orca's cluster-wide tasks do
(AbstractClusterWideClouddriverTask and its subclasses), then acts on them with the
server-group stages' own operations: the same WRITE check, traffic guard, remembered
capacity and wait until Marathon has finished.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipelines import server_groups as sg
from pipelines.expressions.functions import DEPLOY_STAGE_TYPES
from pipelines.server_groups import OperationError, Target
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.stages.server_groups import (
    DestroyServerGroup,
    DisableServerGroup,
    ServerGroupStage,
    _failed,
    _place_errors,
    account_changed,
)
from pipelines.status import Status
from providers.dcos.model import ServerGroup
from providers.dcos.naming import ServerGroupName
from providers.dcos.transport import DcosError
from spinui.models import Application
from spinui.traffic_guards import up_count

CLUSTER_FIELDS = (
    Field("credentials", "Account", required=True),
    Field("regions", "Regions", "json", required=True, help='e.g. ["dev"]'),
    Field("cluster", "Cluster", required=True, help="e.g. hello-prod"),
)


# Config shared with findImage and the clusterSize precondition


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def cluster_errors(config: dict[str, Any], path: str) -> list[ConfigError]:
    """Save-time errors of `credentials` (or `account`), `regions` (or `region`) and
    `cluster`: missing, an account or region that does not exist, a name that is no cluster."""
    errors = []
    if not sg.account_of(config):
        errors.append(ConfigError(f"{path}/credentials", "name the account"))
    if not sg.regions_of(config) and not _is_expression(config.get("regions")):
        errors.append(ConfigError(f"{path}/regions", "give at least one region"))
    errors += _place_errors(config, path)
    cluster = config.get("cluster")
    if not cluster:
        errors.append(ConfigError(f"{path}/cluster", "name the cluster, e.g. hello-prod"))
    elif not _is_expression(cluster) and cluster_of(cluster) is None:
        errors.append(
            ConfigError(
                f"{path}/cluster",
                f"{cluster!r} is not a cluster name: <application>[-<stack>[-<detail>]]",
            )
        )
    return errors


def cluster_of(name: Any) -> ServerGroupName | None:
    """The parsed cluster name, or None when NAME is not one (a server group's is not)."""
    parsed = ServerGroupName.parse(str(name))
    if parsed is None or parsed.sequence is not None or parsed.cluster != name:
        return None
    return parsed


def count_of(value: Any) -> int | None:
    """A whole number of at least 0 from a number or its text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, (int, float)) and value >= 0 and float(value) == int(value):
        return int(value)
    return None


def count_errors(config: dict[str, Any], path: str, keys: tuple[str, ...]) -> list[ConfigError]:
    return [
        ConfigError(f"{path}/{key}", f"give a whole number of at least 0, not {config[key]!r}")
        for key in keys
        if key in config and not _is_expression(config[key]) and count_of(config[key]) is None
    ]


def flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def members_of(account: str, region: str, cluster: str) -> list[ServerGroup]:
    """The server groups spinui manages in CLUSTER in REGION, newest first."""
    return [m for m in sg.cluster_in_region(account, region, cluster) if m.managed]


def _cluster_in(context: dict[str, Any]) -> ServerGroupName:
    parsed = cluster_of(context.get("cluster") or "")
    if parsed is None:
        raise OperationError(f"{context.get('cluster')!r} is not a cluster name")
    return parsed


def cluster_for(context: dict[str, Any], application: str) -> str:
    """The context's cluster, if it is one of APPLICATION's."""
    parsed = _cluster_in(context)
    if parsed.application != application:
        raise OperationError(
            f"cluster {parsed.cluster} belongs to application {parsed.application}, "
            f"not {application}"
        )
    return parsed.cluster


def readable_cluster(context: dict[str, Any], run_as: str) -> str:
    """The context's cluster, if RUN_AS may READ its application and the account: a stage
    that only looks may look at another application's cluster, as in Spinnaker."""
    parsed = _cluster_in(context)
    sg.check_may_read(run_as, parsed.application, sg.account_of(context))
    return parsed.cluster


def size(server_group: ServerGroup) -> int:
    # Orca compares instances, which on DC/OS are the tasks.
    return len(server_group.tasks)


def is_active(server_group: ServerGroup) -> bool:
    """Orca's isActive: enabled, or still with an Up instance."""
    return not server_group.disabled or up_count(server_group) > 0


def retained_first(
    server_groups: list[ServerGroup], *, active_first: bool, larger_first: bool
) -> list[ServerGroup]:
    """SERVER_GROUPS (newest first) in the order to keep them: active ones, then the larger,
    then the newer."""
    return sorted(
        server_groups,
        key=lambda m: (
            not is_active(m) if active_first else False,
            -size(m) if larger_first else 0,
        ),
    )


def _deployed_by_parents(run: StageRun, account: str) -> dict[str, set[str]]:
    """What the deploy stages enclosing this one created, by region: a strategy's cluster
    stage never touches the server group its deploy just made."""
    stages = {s["id"]: s for s in run.execution.get("stages") or []}
    found: dict[str, set[str]] = {}
    parent = stages.get((stages.get(run.stage_id) or {}).get("parentStageId"))
    while parent is not None:
        if _is_deploy_into(parent, account):
            for source in (parent.get("context") or {}, parent.get("outputs") or {}):
                groups = source.get("deploy.server.groups")
                for region, names in (groups if isinstance(groups, dict) else {}).items():
                    found.setdefault(region, set()).update(names or [])
        parent = stages.get(parent.get("parentStageId"))
    return found


def _is_deploy_into(stage: dict[str, Any], account: str) -> bool:
    context = stage.get("context") or {}
    deploys = {stage.get("type"), context.get("type")} & set(DEPLOY_STAGE_TYPES)
    return bool(deploys) and sg.account_of(context) in ("", account)


def _protected(members: list[ServerGroup], deployed: set[str]) -> set[str]:
    """The server groups a parent deploy made and every one newer (Orca's
    filterParentAndNewerThanParentDeploys)."""
    indexes = [i for i, m in enumerate(members) if m.name in deployed]
    return {m.name for m in members[: max(indexes) + 1]} if indexes else set()


class ClusterStage(ServerGroupStage):
    """An operation on the server groups of a cluster that `choose` picks in each region."""

    fields = CLUSTER_FIELDS
    counts: tuple[str, ...] = ()

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        return cluster_errors(config, path) + count_errors(config, path, self.counts)

    def targets(self, run: StageRun, application: Application) -> list[Target]:
        context = run.context
        account, cluster = sg.account_of(context), cluster_for(context, application.name)
        regions = sg.regions_of(context)
        if not regions:
            raise OperationError("give the region (or regions) to act in")
        deployed = _deployed_by_parents(run, account)
        chosen = []
        for region in regions:
            members = members_of(account, region, cluster)
            if not members and not self.empty_is_fine(context):
                raise OperationError(
                    f"cluster {cluster} has no server groups in {account}/{region}"
                )
            protected = _protected(members, deployed.get(region, set()))
            candidates = [m for m in members if m.name not in protected]
            chosen += [
                Target(account, region, m.name, m.app_id)
                for m in self.choose(members, candidates, context)
            ]
        return chosen

    def empty_is_fine(self, context: dict[str, Any]) -> bool:
        return flag(context.get("continueIfClusterNotFound"))

    def choose(
        self, members: list[ServerGroup], candidates: list[ServerGroup], context: dict[str, Any]
    ) -> list[ServerGroup]:
        """Which of CANDIDATES (MEMBERS less what a parent deploy made) to act on."""
        raise NotImplementedError


def _number(context: dict[str, Any], key: str, default: int) -> int:
    value = count_of(context.get(key, default))
    if value is None:
        raise OperationError(f"{key} must be a whole number of at least 0")
    return value


@register
class ShrinkCluster(ClusterStage, DestroyServerGroup):
    type = "shrinkCluster"
    label = "Shrink Cluster"
    description = (
        "Destroys all but the newest (or largest) server groups of a cluster, keeping "
        "shrinkToSize of them; enabled ones only with allowDeleteActive."
    )
    fields = (
        *CLUSTER_FIELDS,
        Field("shrinkToSize", "Keep this many server groups", "number"),
        Field("allowDeleteActive", "Allow deleting enabled server groups", "boolean"),
        Field("retainLargerOverNewer", "Keep larger server groups over newer ones", "boolean"),
    )
    counts = ("shrinkToSize",)

    def empty_is_fine(self, context: dict[str, Any]) -> bool:
        return super().empty_is_fine(context) or _number(context, "shrinkToSize", 1) == 0

    def choose(
        self, members: list[ServerGroup], candidates: list[ServerGroup], context: dict[str, Any]
    ) -> list[ServerGroup]:
        allow_active = flag(context.get("allowDeleteActive"))
        if not allow_active:
            candidates = [m for m in candidates if not is_active(m)]
        # What is not a candidate (a parent deploy's, an enabled one) counts as kept.
        keep = _number(context, "shrinkToSize", 1) - (len(members) - len(candidates))
        ordered = retained_first(
            candidates,
            active_first=allow_active,
            larger_first=flag(context.get("retainLargerOverNewer")),
        )
        return ordered[max(0, keep) :]


@register
class DisableCluster(ClusterStage, DisableServerGroup):
    type = "disableCluster"
    label = "Disable Cluster"
    description = (
        "Disables (scales to 0, remembering the capacity) every enabled server group of a "
        "cluster but the newest remainingEnabledServerGroups."
    )
    fields = (
        *CLUSTER_FIELDS,
        Field("remainingEnabledServerGroups", "Keep this many enabled", "number"),
        Field("preferLargerOverNewer", "Keep larger server groups over newer ones", "boolean"),
    )
    counts = ("remainingEnabledServerGroups",)

    def choose(
        self, members: list[ServerGroup], candidates: list[ServerGroup], context: dict[str, Any]
    ) -> list[ServerGroup]:
        keep = _number(context, "remainingEnabledServerGroups", 1) - (
            len(members) - len(candidates)
        )
        active = [m for m in candidates if is_active(m)]
        ordered = retained_first(
            active, active_first=False, larger_first=flag(context.get("preferLargerOverNewer"))
        )
        return ordered[max(0, keep) :]


@register
class ScaleDownCluster(ClusterStage, DisableServerGroup):
    type = "scaleDownCluster"
    label = "Scale Down Cluster"
    description = (
        "Scales to 0 (remembering the capacity) all but remainingFullSizeServerGroups server "
        "groups of a cluster. Without allowScaleDownActive only disabled ones qualify, and on "
        "DC/OS a disabled server group is already at 0."
    )
    fields = (
        *CLUSTER_FIELDS,
        Field("remainingFullSizeServerGroups", "Keep this many at full size", "number"),
        Field("allowScaleDownActive", "Allow scaling down enabled server groups", "boolean"),
        Field("preferLargerOverNewer", "Keep larger server groups over newer ones", "boolean"),
    )
    counts = ("remainingFullSizeServerGroups",)

    def choose(
        self, members: list[ServerGroup], candidates: list[ServerGroup], context: dict[str, Any]
    ) -> list[ServerGroup]:
        allow_active = flag(context.get("allowScaleDownActive"))
        if not allow_active:
            candidates = [m for m in candidates if not is_active(m)]
        keep = _number(context, "remainingFullSizeServerGroups", 1) - (
            len(members) - len(candidates)
        )
        ordered = retained_first(
            candidates,
            active_first=allow_active,
            larger_first=flag(context.get("preferLargerOverNewer")),
        )
        return [m for m in ordered[max(0, keep) :] if m.instances > 0]


@register
class RollbackCluster(StageType):
    type = "rollbackCluster"
    label = "Rollback Cluster"
    description = (
        "In each region, enables the cluster's previous server group (its remembered "
        "capacity, or the current one's), waits until it is healthy (or "
        "targetHealthyRollbackPercentage of it), then disables the newest."
    )
    fields = (
        *CLUSTER_FIELDS,
        Field(
            "targetHealthyRollbackPercentage",
            "Healthy percentage before disabling",
            "number",
            help="enough of the previous server group healthy to go on (default 100)",
        ),
    )
    default_timeout = timedelta(minutes=30)

    def accounts_changed(self, config: dict[str, Any], path: str) -> list[tuple[str, str]]:
        return account_changed(config, path)

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = cluster_errors(config, path)
        percentage = config.get("targetHealthyRollbackPercentage")
        if percentage is not None and not _is_expression(percentage):
            number = count_of(percentage)
            if number is None or not 0 < number <= 100:
                errors.append(
                    ConfigError(
                        f"{path}/targetHealthyRollbackPercentage", "give a percentage, 1 to 100"
                    )
                )
        return errors

    def run(self, run: StageRun) -> Outcome:
        context = run.context
        account = sg.account_of(context)
        try:
            application = sg.check_may_write(run.run_as, run.execution["application"], account)
            cluster = cluster_for(context, application.name)
            rollbacks = [
                self._candidates(account, region, cluster) for region in sg.regions_of(context)
            ]
        except (OperationError, DcosError) as error:
            return _failed(error)
        if not rollbacks:
            return Outcome(Status.TERMINAL, error="give the region (or regions) to roll back in")
        return Outcome(Status.SUCCEEDED, context={"rollbacks": rollbacks})

    @staticmethod
    def _candidates(account: str, region: str, cluster: str) -> dict[str, Any]:
        members = members_of(account, region, cluster)
        if len(members) < 2:
            only = f" (only {members[0].name})" if members else ""
            raise OperationError(
                f"cluster {cluster} has no previous server group to roll back to in "
                f"{account}/{region}{only}"
            )
        current, previous = members[0], members[1]
        return {
            "account": account,
            "region": region,
            "rollbackServerGroup": current.name,
            "restoreServerGroup": previous.name,
            "capacity": current.instances,
        }

    def after_stages(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        """Per region: enable the previous one (which waits until it is healthy), then
        disable the current one, each a server-group stage with its own guard."""
        stages = []
        for rollback in context.get("rollbacks") or []:
            where = {"credentials": rollback["account"], "regions": [rollback["region"]]}
            restore, current = rollback["restoreServerGroup"], rollback["rollbackServerGroup"]
            enable = {
                "type": "enableServerGroup",
                "name": f"Enable {restore} in {rollback['region']}",
                "serverGroupName": restore,
                **where,
            }
            if rollback["capacity"] > 0:  # used when no capacity was remembered
                enable["capacity"] = {"desired": rollback["capacity"]}
            if context.get("targetHealthyRollbackPercentage") not in (None, ""):
                percentage = context["targetHealthyRollbackPercentage"]
                enable["targetHealthyDeployPercentage"] = percentage
            stages.append(enable)
            stages.append(
                {
                    "type": "disableServerGroup",
                    "name": f"Disable {current} in {rollback['region']}",
                    "serverGroupName": current,
                    **where,
                }
            )
        return stages
