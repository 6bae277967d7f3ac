"""Server-group stages: create, clone, resize, disable, enable, destroy, terminate instances.

Each checks at start that the execution's identity may WRITE the application and the
account, resolves its targets, consults the traffic guards, makes one Marathon call, and then
looks again (a rescheduled run, never a sleep) until Marathon has finished, within a timeout.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings

from pipelines import server_groups as sg
from pipelines.server_groups import OperationError, Target
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.status import Status
from providers.dcos import operations as ops
from providers.dcos.model import UP
from providers.dcos.naming import NamingError, ServerGroupName, cluster_name
from providers.dcos.transport import Conflict, DcosError
from spinui.infrastructure import HIDDEN
from spinui.models import Application
from spinui.traffic_guards import refusal, up_count

TARGET_FIELDS = (
    Field("credentials", "Account", required=True),
    Field("regions", "Regions", "json", required=True, help='e.g. ["dev"]'),
    Field("cluster", "Cluster", help="e.g. hello-prod"),
    Field("target", "Target", "choice", choices=sg.TARGETS),
    Field("serverGroupName", "Or a server group", help="e.g. hello-prod-v003"),
)
# Keys of a create description (§1.3); anything else in a stage context is not copied into a
# clone's description.
DESCRIPTION_KEYS = (
    "capacity",
    "desiredCapacity",
    "cpus",
    "mem",
    "disk",
    "gpus",
    "docker",
    "forcePullImage",
    "cmd",
    "args",
    "dcosUser",
    "user",
    "networkType",
    "networkName",
    "serviceEndpoints",
    "requirePorts",
    "env",
    "secrets",
    "labels",
    "healthChecks",
    "readinessChecks",
    "constraints",
    "fetch",
    "upgradeStrategy",
    "backoffSeconds",
    "backoffFactor",
    "maxLaunchDelaySeconds",
    "taskKillGracePeriodSeconds",
    "acceptedResourceRoles",
    "dependencies",
    "residency",
    "persistentVolumes",
    "dockerVolumes",
    "externalVolumes",
)


def poll_seconds() -> float:
    return settings.SPINUI_OPERATION_POLL_SECONDS


def _has_expression(config: dict[str, Any]) -> bool:
    return "${" in json.dumps(config, default=str)


def _failed(error: Exception) -> Outcome:
    """A refusal or Marathon's permanent error ends the stage; a passing failure (a cluster
    that does not answer, a 5xx) is tried again at the next look."""
    if isinstance(error, DcosError) and not error.permanent:
        return Outcome(Status.RUNNING, context={"lastError": error.message}, delay=poll_seconds())
    message = error.message if isinstance(error, DcosError) else str(error)
    return Outcome(Status.TERMINAL, error=message)


def _place_errors(config: dict[str, Any], path: str) -> list[ConfigError]:
    """An account or region that does not exist, known when the pipeline is saved."""
    key = "credentials" if config.get("credentials") else "account"
    if isinstance(config.get("regions"), list):
        regions = {f"{path}/regions/{i}": r for i, r in enumerate(config["regions"])}
    else:
        regions = {f"{path}/region": config.get("region")}
    found = sg.place_errors(sg.account_of(config), f"{path}/{key}", regions)
    return [ConfigError(where, message) for where, message in found]


def account_changed(config: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """The account a stage's `credentials` (or `account`) names, unless an expression."""
    key = "credentials" if config.get("credentials") else "account"
    account = sg.account_of(config)
    return [] if not account or "${" in account else [(f"{path}/{key}", account)]


def _deployed(targets: list[Target]) -> dict[str, Any]:
    by_region: dict[str, list[str]] = {}
    for target in targets:
        by_region.setdefault(target.region, []).append(target.name)
    return {
        "deploy.server.groups": by_region,
        "serverGroupNames": [f"{t.region}:{t.name}" for t in targets],
    }


# Creating a server group: createServerGroup, cloneServerGroup and deploy share this.


def name_errors(config: dict[str, Any], path: str) -> list[ConfigError]:
    """A stack or detail Marathon would reject in an app id, at its JSON path."""
    for key in ("stack", "freeFormDetails"):
        value = config.get(key) or ""
        try:
            cluster_name("app", value if key == "stack" else "", value if key != "stack" else "")
        except NamingError as error:
            return [ConfigError(f"{path}/{key}", str(error))]
    return []


def cluster_of(application: str, config: dict[str, Any]) -> ServerGroupName:
    """The cluster a create description names (its stack and detail) in APPLICATION."""
    if config.get("application") and config["application"] != application:
        raise OperationError(
            f"this execution belongs to {application}, not {config['application']}"
        )
    stack = config.get("stack") or ""
    detail = config.get("freeFormDetails") or config.get("detail") or ""
    try:
        cluster_name(application, stack, detail)
    except NamingError as error:
        raise OperationError(str(error)) from None
    return ServerGroupName(application, stack, detail)


def create_server_group(
    *,
    account: str,
    region: str,
    operation_id: str,
    source: Callable[[], tuple[dict[str, Any], ServerGroupName]],
) -> tuple[str, bool]:
    """Create the app of SOURCE's (description, cluster) once per OPERATION_ID: (its app id,
    whether an earlier attempt had already made it). OperationError when nothing was created;
    a passing DcosError when it may have been (the next attempt finds it by its label)."""
    operations = sg.operations(account, region)
    existing = operations.find_created_by(operation_id)
    if existing is not None:  # an earlier attempt created it; do not make another
        return str(existing["id"]), True
    description, cluster = source()
    app_id = sg.reserve_name(
        account=account, region=region, cluster=cluster, operation_id=operation_id
    )
    name = ServerGroupName.parse(app_id.name)
    labels = {
        ops.LABEL_APPLICATION: name.application,
        ops.LABEL_CLUSTER: name.cluster,
        ops.LABEL_SEQUENCE: str(name.sequence),
        ops.LABEL_OPERATION: operation_id,
    }
    try:
        definition = ops.app_definition(description, str(app_id), labels)
    except ops.DescriptionError as error:
        sg.release_name(operation_id)
        raise OperationError(f"invalid description: {error}") from None
    try:
        operations.create(definition)
    except DcosError as error:
        if not error.permanent:
            raise  # perhaps created: the next look finds it by its label
        if isinstance(error, Conflict) and operations.find_created_by(operation_id):
            return str(app_id), True
        sg.release_name(operation_id)  # nothing was created: the name is free again
        raise OperationError(f"Marathon refused {app_id}: {error.message}") from None
    return str(app_id), False


def waiting_message(progress: ops.Progress) -> str:
    """What Marathon still does, with the last task failure when there is one."""
    failure = (progress.server_group and progress.server_group.last_task_failure) or {}
    if not failure.get("message"):
        return progress.message
    return f"{progress.message} (last task failure: {failure['message']})"


class ServerGroupStage(StageType):
    """A stage acting on existing server groups: an explicit one, or a cluster's target."""

    fields = TARGET_FIELDS
    default_timeout = timedelta(minutes=30)
    # Destroy waits for the app to be gone rather than settled.
    removes = False

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = []
        if not sg.account_of(config):
            errors.append(ConfigError(f"{path}/credentials", "name the account"))
        if not sg.regions_of(config):
            errors.append(ConfigError(f"{path}/regions", "give at least one region"))
        name = config.get("serverGroupName") or config.get("asgName")
        if not name:
            if not config.get("cluster"):
                errors.append(ConfigError(f"{path}/cluster", "name the cluster or a server group"))
            target = config.get("target")
            if target not in sg.TARGETS and not _has_expression({"t": target}):
                errors.append(ConfigError(f"{path}/target", f"one of {', '.join(sg.TARGETS)}"))
        return errors + _place_errors(config, path) + self.validate_more(config, path)

    def validate_more(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        return []

    def accounts_changed(self, config: dict[str, Any], path: str) -> list[tuple[str, str]]:
        return account_changed(config, path)

    def run(self, run: StageRun) -> Outcome:
        try:
            if "targets" not in run.context:
                return self._act(run)
            return self._wait(run)
        except (OperationError, DcosError) as error:
            return _failed(error)

    def _act(self, run: StageRun) -> Outcome:
        context = run.context
        application = sg.check_may_write(
            run.run_as, run.execution["application"], sg.account_of(context)
        )
        targets = self.targets(run, application)
        plan = {t.app_id: self.plan(t, context) for t in targets}
        self._guard(application, targets, plan)
        for target in targets:
            self.act(target, plan[target.app_id], context)
        recorded = {
            "targets": [t.as_json() for t in targets],
            "plan": plan,
            **_deployed(targets),
        }
        return Outcome(Status.RUNNING, context=recorded, delay=poll_seconds())

    def _guard(self, application: Application, targets: list[Target], plan: dict) -> None:
        for target in targets:
            future = self.future_up(target, plan[target.app_id])
            if future is None:
                continue
            cluster = ServerGroupName.parse(target.name).cluster
            members = sg.cluster_in_region(target.account, target.region, cluster)
            mine = next((m for m in members if m.app_id == target.app_id), None)
            changes = {target.name: future(mine) if mine else 0}
            for other in targets:  # several targets of one cluster go down together
                if other is not target and other.region == target.region:
                    changed = self.future_up(other, plan[other.app_id])
                    peer = next((m for m in members if m.app_id == other.app_id), None)
                    if changed and peer:
                        changes[other.name] = changed(peer)
            why = refusal(application, members, changes)
            if why:
                raise OperationError(f"refused: {why}")

    def _wait(self, run: StageRun) -> Outcome:
        targets = [Target.from_json(t) for t in run.context["targets"]]
        waiting = []
        for target in targets:
            progress = sg.operations(target.account, target.region).progress(
                target.app_id, gone=self.removes
            )
            extra = self.still_waiting(target, run.context, progress)
            if not self.settled(target, run.context, progress) or extra:
                waiting.append(f"{target.name}: {extra or progress.message}")
        if waiting:
            return Outcome(Status.RUNNING, context={"waitingFor": waiting}, delay=poll_seconds())
        sg.refresh_cache(targets)
        self.finished(targets)
        return Outcome(Status.SUCCEEDED, context={"waitingFor": []}, outputs=_deployed(targets))

    # What each operation fills in

    def targets(self, run: StageRun, application: Application) -> list[Target]:
        """The server groups to act on: the named one, or the cluster's target."""
        return sg.resolve(run.context, application.name)

    def plan(self, target: Target, context: dict[str, Any]) -> dict[str, Any]:
        """What to do to TARGET, decided before anything is done (JSON)."""
        return {}

    def future_up(self, target: Target, plan: dict[str, Any]):
        """A function of the server group giving its Up instances afterwards, or None when
        the operation removes no traffic (no guard applies)."""
        return None

    def act(self, target: Target, plan: dict[str, Any], context: dict[str, Any]) -> None:
        raise NotImplementedError

    def still_waiting(self, target: Target, context: dict[str, Any], progress) -> str:
        return ""

    def settled(self, target: Target, context: dict[str, Any], progress) -> bool:
        """Whether the stage is done waiting for TARGET: Marathon has finished with it."""
        return progress.done

    def finished(self, targets: list[Target]) -> None:
        pass

    def prepare_restart(self, context: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in context.items() if k not in ("targets", "plan", "waitingFor")}


def _current(target: Target):
    server_group = sg.marathon(target.account, target.region).server_group(target.app_id)
    if server_group is None:
        raise OperationError(f"{target.name} no longer exists in {target.account}/{target.region}")
    return server_group


@register
class ResizeServerGroup(ServerGroupStage):
    type = "resizeServerGroup"
    label = "Resize Server Group"
    description = "Changes the number of instances; a scale only, so no task restarts."
    fields = (
        *TARGET_FIELDS,
        Field(
            "action",
            "Action",
            "choice",
            choices=("scale_exact", "scale_up", "scale_down"),
        ),
        Field("capacity", "Capacity", "json", help='{"desired": 3}'),
        Field("scaleNum", "Scale by (instances)", "number"),
        Field("scalePct", "Scale by (percent)", "number"),
    )

    def validate_more(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        action = config.get("action", "scale_exact")
        if action not in ("scale_exact", "scale_up", "scale_down"):
            return [ConfigError(f"{path}/action", "scale_exact, scale_up or scale_down")]
        if _has_expression(config):
            return []
        if action == "scale_exact":
            desired, bad = ops.desired_instances(config)
            if desired is None or not (config.get("capacity") or "desiredCapacity" in config):
                return [ConfigError(f"{path}{bad or '/capacity/desired'}", "give a whole number")]
        elif config.get("scaleNum") in (None, "") and config.get("scalePct") in (None, ""):
            return [ConfigError(f"{path}/scaleNum", "give scaleNum or scalePct")]
        return []

    def plan(self, target: Target, context: dict[str, Any]) -> dict[str, Any]:
        current = _current(target).instances
        action = context.get("action", "scale_exact")
        if action == "scale_exact":
            desired, _ = ops.desired_instances(context)
            if desired is None:
                raise OperationError("capacity.desired is not a whole number")
            return {"from": current, "instances": desired}
        if context.get("scalePct") not in (None, ""):
            step = math.ceil(current * float(context["scalePct"]) / 100)
        else:
            step = int(context.get("scaleNum") or 0)
        step = step if action == "scale_up" else -step
        return {"from": current, "instances": max(0, current + step)}

    def future_up(self, target: Target, plan: dict[str, Any]):
        return lambda server_group: min(up_count(server_group), plan["instances"])

    def act(self, target: Target, plan: dict[str, Any], context: dict[str, Any]) -> None:
        sg.operations(target.account, target.region).resize(target.app_id, plan["instances"])


@register
class DisableServerGroup(ServerGroupStage):
    type = "disableServerGroup"
    label = "Disable Server Group"
    description = (
        "Scales to 0, which stops every task, remembering the capacity for enable "
        "(until load balancers arrive, disabling means stopping)."
    )

    def plan(self, target: Target, context: dict[str, Any]) -> dict[str, Any]:
        return {"from": _current(target).instances, "instances": 0}

    def future_up(self, target: Target, plan: dict[str, Any]):
        return lambda server_group: 0

    def act(self, target: Target, plan: dict[str, Any], context: dict[str, Any]) -> None:
        sg.remember_capacity(target, plan["from"])
        sg.operations(target.account, target.region).resize(target.app_id, 0)


@register
class EnableServerGroup(ServerGroupStage):
    type = "enableServerGroup"
    label = "Enable Server Group"
    description = "Scales back to the capacity it had when disabled."

    def plan(self, target: Target, context: dict[str, Any]) -> dict[str, Any]:
        current = _current(target).instances
        remembered = sg.remembered_capacity(target)
        if remembered is None:
            given, _ = ops.desired_instances(context)
            if not (context.get("capacity") or context.get("desiredCapacity")) or not given:
                if current > 0:
                    return {"from": current, "instances": current}
                raise OperationError(
                    f"{target.name} was not disabled by spinui, so no capacity is remembered; "
                    "resize it instead"
                )
            remembered = given
        return {"from": current, "instances": max(current, remembered)}

    def act(self, target: Target, plan: dict[str, Any], context: dict[str, Any]) -> None:
        if plan["instances"] != plan["from"]:
            sg.operations(target.account, target.region).resize(target.app_id, plan["instances"])

    def settled(self, target: Target, context: dict[str, Any], progress) -> bool:
        """With Orca's targetHealthyDeployPercentage, that share of the restored capacity
        healthy (running, without health checks) is enough, deployment or not."""
        percentage = context.get("targetHealthyDeployPercentage")
        server_group = progress.server_group
        if progress.done or percentage in (None, "") or server_group is None:
            return progress.done
        wanted = math.ceil(context["plan"][target.app_id]["instances"] * float(percentage) / 100)
        checked = bool(server_group.definition.get("healthChecks"))
        counted = server_group.tasks_healthy if checked else server_group.tasks_running
        return counted >= wanted

    def finished(self, targets: list[Target]) -> None:
        from pipelines.models import DisabledCapacity

        for target in targets:
            DisabledCapacity.objects.filter(
                account=target.account, region=target.region, name=target.name
            ).delete()


@register
class DestroyServerGroup(ServerGroupStage):
    type = "destroyServerGroup"
    label = "Destroy Server Group"
    description = "Deletes the Marathon app and every task of it."
    removes = True

    def future_up(self, target: Target, plan: dict[str, Any]):
        return lambda server_group: 0

    def act(self, target: Target, plan: dict[str, Any], context: dict[str, Any]) -> None:
        sg.operations(target.account, target.region).destroy(target.app_id)

    def finished(self, targets: list[Target]) -> None:
        for target in targets:
            sg.forget(target)


@register
class TerminateInstances(ServerGroupStage):
    type = "terminateInstances"
    label = "Terminate Instances"
    description = (
        "Kills the given instances; Marathon replaces them unless the server group shrinks."
    )
    fields = (
        Field("credentials", "Account", required=True),
        Field("region", "Region", required=True),
        Field("serverGroupName", "Server group", required=True),
        Field("instanceIds", "Instance (task) ids", "json", required=True),
        Field("shrink", "Shrink the server group", "boolean"),
    )

    def validate_more(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = []
        if not (config.get("serverGroupName") or config.get("asgName")):
            errors.append(ConfigError(f"{path}/serverGroupName", "name the server group"))
        ids = config.get("instanceIds")
        if not _has_expression({"i": ids}) and (
            not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids)
        ):
            errors.append(ConfigError(f"{path}/instanceIds", "give a list of task ids"))
        return errors

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        # An explicit server group only: no cluster or target needed.
        return [
            e
            for e in super().validate(config, path)
            if not e.path.endswith(("/cluster", "/target"))
        ]

    def plan(self, target: Target, context: dict[str, Any]) -> dict[str, Any]:
        current = _current(target)
        known = {task.id for task in current.tasks}
        ids = list(context.get("instanceIds") or [])
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise OperationError(f"{target.name} has no instance {', '.join(unknown)}")
        up = [task.id for task in current.tasks if task.id in ids and task.health == UP]
        shrink = bool(context.get("shrink") or context.get("terminateAndDecrement"))
        instances = current.instances - len(ids) if shrink else current.instances
        return {"ids": ids, "up": up, "shrink": shrink, "instances": instances}

    def future_up(self, target: Target, plan: dict[str, Any]):
        return lambda server_group: up_count(server_group) - len(plan["up"])

    def act(self, target: Target, plan: dict[str, Any], context: dict[str, Any]) -> None:
        sg.operations(target.account, target.region).terminate(plan["ids"], scale=plan["shrink"])

    def still_waiting(self, target: Target, context: dict[str, Any], progress) -> str:
        killed = set(context["plan"][target.app_id]["ids"])
        server_group = progress.server_group
        if server_group and killed & {task.id for task in server_group.tasks}:
            return "waiting for the instances to end"
        return ""


@register
class CreateServerGroup(StageType):
    type = "createServerGroup"
    label = "Create Server Group"
    description = "Creates a new server group (a Marathon app) of a cluster and waits for it."
    default_timeout = timedelta(minutes=30)
    fields = (
        Field("credentials", "Account", required=True),
        Field("region", "Region", required=True),
        Field("stack", "Stack"),
        Field("freeFormDetails", "Detail"),
        Field("docker", "Docker", "json", help='{"image": {"imageId": "spinui/hello:1.0"}}'),
        Field("capacity", "Capacity", "json", help='{"desired": 1}'),
        Field("cpus", "CPUs", "number"),
        Field("mem", "Memory (MiB)", "number"),
        Field("networkType", "Network", "choice", choices=ops.NETWORKS),
        Field("serviceEndpoints", "Service endpoints", "json"),
        Field("env", "Environment", "json"),
        Field("labels", "Labels", "json"),
        Field("healthChecks", "Health checks", "json"),
        Field("cmd", "Command"),
    )

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = []
        if not sg.account_of(config):
            errors.append(ConfigError(f"{path}/credentials", "name the account"))
        if not config.get("region"):
            errors.append(ConfigError(f"{path}/region", "name the region"))
        if _has_expression(config):
            return errors
        errors += _place_errors(config, path) + self.validate_names(config, path)
        if self.needs_description:
            try:
                ops.app_definition(self.description_keys(config), "/check/check-v000")
            except ops.DescriptionError as error:
                errors += [ConfigError(f"{path}{p}", m) for p, m in error.errors]
        return errors

    needs_description = True

    def accounts_changed(self, config: dict[str, Any], path: str) -> list[tuple[str, str]]:
        return account_changed(config, path)

    def validate_names(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        return name_errors(config, path)

    @staticmethod
    def description_keys(context: dict[str, Any]) -> dict[str, Any]:
        return {k: context[k] for k in DESCRIPTION_KEYS if k in context}

    @staticmethod
    def operation_id(run: StageRun) -> str:
        restarted = (run.context.get("restartDetails") or {}).get("restartTime")
        return f"{run.stage_id}-{restarted}" if restarted else run.stage_id

    def run(self, run: StageRun) -> Outcome:
        try:
            if "marathonId" not in run.context:
                return self._create(run)
            return self._wait(run)
        except (OperationError, DcosError) as error:
            return _failed(error)

    def source(self, run: StageRun) -> tuple[dict[str, Any], ServerGroupName]:
        """The description to create and the cluster it belongs to."""
        context = run.context
        return self.description_keys(context), cluster_of(run.execution["application"], context)

    def _create(self, run: StageRun) -> Outcome:
        context = run.context
        account, region = sg.account_of(context), str(context.get("region") or "")
        sg.check_may_write(run.run_as, run.execution["application"], account)
        operation_id = self.operation_id(run)
        app_id, found = create_server_group(
            account=account,
            region=region,
            operation_id=operation_id,
            source=lambda: self.source(run),
        )
        return self._created(account, region, app_id, operation_id, found=found)

    def _created(
        self, account: str, region: str, app_id: str, operation_id: str, *, found: bool
    ) -> Outcome:
        name = app_id.rsplit("/", 1)[1]
        target = Target(account, region, name, app_id)
        recorded = {
            "marathonId": app_id,
            "serverGroupName": name,
            "operationId": operation_id,
            "foundExisting": found,
            "targets": [target.as_json()],
            **_deployed([target]),
        }
        return Outcome(Status.RUNNING, context=recorded, delay=poll_seconds())

    def _wait(self, run: StageRun) -> Outcome:
        target = Target.from_json(run.context["targets"][0])
        progress = sg.operations(target.account, target.region).progress(target.app_id)
        if not progress.done:
            message = waiting_message(progress)
            return Outcome(Status.RUNNING, context={"waitingFor": message}, delay=poll_seconds())
        sg.refresh_cache([target])
        return Outcome(Status.SUCCEEDED, context={"waitingFor": ""}, outputs=_deployed([target]))

    def prepare_restart(self, context: dict[str, Any]) -> dict[str, Any]:
        return context


@register
class CloneServerGroup(CreateServerGroup):
    type = "cloneServerGroup"
    label = "Clone Server Group"
    description = "Creates a new server group from an existing one's definition, with overrides."
    needs_description = False
    fields = (
        Field(
            "source",
            "Source",
            "json",
            required=True,
            help='{"account", "region", "serverGroupName"}',
        ),
        *CreateServerGroup.fields,
    )

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = []
        source = config.get("source")
        if not isinstance(source, dict) or not (
            source.get("serverGroupName") or source.get("asgName")
        ):
            errors.append(ConfigError(f"{path}/source/serverGroupName", "name the server group"))
        return errors + super().validate({**self._defaults(config), **config}, path)

    @staticmethod
    def _defaults(config: dict[str, Any]) -> dict[str, Any]:
        source = config.get("source") if isinstance(config.get("source"), dict) else {}
        return {
            "credentials": sg.account_of(source),
            "region": source.get("region") or "",
        }

    def run(self, run: StageRun) -> Outcome:
        defaults = {k: v for k, v in self._defaults(run.context).items() if v}
        run.context = {**defaults, **run.context}
        return super().run(run)

    def source(self, run: StageRun) -> tuple[dict[str, Any], ServerGroupName]:
        source = run.context["source"]
        account = sg.account_of(source)
        region = str(source.get("region") or run.context.get("region"))
        name = str(source.get("serverGroupName") or source.get("asgName"))
        from providers.dcos.naming import MarathonAppId

        original = sg.marathon(account, region).server_group(
            str(MarathonAppId.build(account, region, name))
        )
        if original is None:
            raise OperationError(f"source server group {name} does not exist in {account}/{region}")
        application = run.execution["application"]
        if original.application != application:
            raise OperationError(f"{name} belongs to {original.application}, not {application}")
        copied = ops.description_from(original.definition)
        description = {**copied, **self.description_keys(run.context)}
        if isinstance(description.get("env"), dict):
            # A value the cache showed hidden (and a form sent back as such) keeps its own.
            real = copied.get("env") or {}
            description["env"] = {
                key: real.get(key, value) if value == HIDDEN else value
                for key, value in description["env"].items()
            }
        stack = run.context.get("stack", original.stack) or ""
        detail = run.context.get("freeFormDetails", original.detail) or ""
        return description, ServerGroupName(application, stack, detail)


@register
class TerminateInstanceAndDecrementServerGroup(TerminateInstances):
    type = "terminateInstanceAndDecrementServerGroup"
    label = "Terminate Instances and Shrink"
    description = "Kills the given instances and lowers the server group's instances by as many."

    def plan(self, target: Target, context: dict[str, Any]) -> dict[str, Any]:
        return super().plan(target, {**context, "shrink": True})
