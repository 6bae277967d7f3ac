"""The deploy stage (Deck's "Deploy", reference spinnaker-semantics §1.3, §1.4, §2.8).

Each `clusters[]` entry is a create description with its place (`account`, `region`) and
its image: given, the trigger's tag (`fromTrigger`) or an upstream find-image stage's
(`fromContext`). Every run of the stage looks at every entry, so several regions or
accounts deploy in parallel: first all are created, then each is watched until Marathon's
deployment is gone and its tasks are up. The highlander strategy is a shrinkCluster per
cluster and region after it; `rollback.onFailure` destroys what the stage made if it fails.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from pipelines import server_groups as sg
from pipelines.server_groups import OperationError, Target
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.stages.server_groups import (
    CreateServerGroup,
    _deployed,
    _has_expression,
    _place_errors,
    account_changed,
    cluster_of,
    create_server_group,
    name_errors,
    waiting_message,
)
from pipelines.status import Status
from providers.dcos import operations as ops
from providers.dcos.transport import DcosError

STRATEGIES = ("", "none", "highlander")
# Deck's other strategies: they move traffic, which needs spinui's load balancers.
WITH_LOAD_BALANCERS = ("redblack", "rollingredblack", "canary", "custom", "monitored")
# What a description stands on at save time when its image is only known at start.
IMAGE_AT_START = "image/known-at:start"


def poll_seconds() -> float:
    """A deploying stage looks often: its end should follow Marathon's within a second."""
    return settings.SPINUI_DEPLOY_POLL_SECONDS


def _image_source(entry: dict[str, Any]) -> dict[str, Any]:
    docker = entry.get("docker")
    image = docker.get("image") if isinstance(docker, dict) else None
    return image if isinstance(image, dict) else {}


def _description(entry: dict[str, Any], image_id: str | None) -> dict[str, Any]:
    """The create description of ENTRY, with IMAGE_ID in place of a trigger or context
    reference."""
    description = CreateServerGroup.description_keys(entry)
    if image_id:
        docker = entry.get("docker") if isinstance(entry.get("docker"), dict) else {}
        description["docker"] = {**docker, "image": {"imageId": image_id}}
    return description


def entry_errors(entry: Any, where: str) -> list[ConfigError]:
    """What is wrong with one `clusters[]` entry, each at its JSON path."""
    if not isinstance(entry, dict):
        return [ConfigError(where, "give each cluster as an object")]
    errors = []
    account, region = sg.account_of(entry), entry.get("region")
    if not account:
        errors.append(ConfigError(f"{where}/account", "name the account"))
    if not region:
        errors.append(ConfigError(f"{where}/region", "name the region"))
    errors += _place_errors(entry, where)
    if entry.get("cloudProvider") not in (None, "", "dcos"):
        errors.append(ConfigError(f"{where}/cloudProvider", "spinui deploys to dcos only"))
    errors += _strategy_errors(entry.get("strategy"), f"{where}/strategy")
    errors += name_errors(entry, where)
    source = _image_source(entry)
    if source.get("fromTrigger") and not source.get("repository"):
        errors.append(
            ConfigError(f"{where}/docker/image/repository", "name the repository of the trigger")
        )
    if source.get("fromContext") and not source.get("stageId"):
        errors.append(
            ConfigError(f"{where}/docker/image/stageId", "give the refId of the find-image stage")
        )
    later = source.get("fromTrigger") or source.get("fromContext")
    try:
        ops.app_definition(_description(entry, IMAGE_AT_START if later else None), "/c/c-v000")
    except ops.DescriptionError as error:
        errors += [ConfigError(f"{where}{path}", message) for path, message in error.errors]
    return errors


def _strategy_errors(strategy: Any, where: str) -> list[ConfigError]:
    if strategy is None or strategy in STRATEGIES:
        return []
    if strategy in WITH_LOAD_BALANCERS:
        return [
            ConfigError(
                where,
                f"{strategy} comes with load balancers, which spinui does not have yet; "
                "use none or highlander",
            )
        ]
    return [ConfigError(where, f"unknown strategy {strategy!r}: none or highlander")]


def image_from_trigger(trigger: dict[str, Any], source: dict[str, Any], account: str) -> str:
    """The trigger's tag of the repository SOURCE names (and its registry and account when
    given), as the image to run."""
    wanted = {
        "repository": source.get("repository"),
        "registry": source.get("registry"),
        "account": source.get("account"),
    }
    matches = all(
        str(trigger.get(key) or "").strip("/") == str(value).strip("/")
        for key, value in wanted.items()
        if value
    )
    if not matches or not trigger.get("tag"):
        what = "/".join(str(v) for v in (source.get("registry"), source.get("repository")) if v)
        raise OperationError(
            f"docker.image.fromTrigger: the trigger ({trigger.get('type', 'manual')}) carries "
            f"no tag of {what}"
        )
    image = {"registry": source.get("registry"), "repository": source["repository"]}
    return ops.image_of({"image": {**image, "tag": trigger["tag"]}})


def image_from_context(execution: dict[str, Any], source: dict[str, Any], region: str) -> str:
    """The image the upstream find-image stage `stageId` found for REGION (or its only one)."""
    ref = str(source.get("stageId") or "")
    upstream = next((s for s in execution.get("stages") or [] if s.get("refId") == ref), None)
    if upstream is None:
        raise OperationError(f"docker.image.fromContext: no stage has refId {ref!r}")
    details = (upstream.get("outputs") or {}).get("deploymentDetails") or []
    found = [d for d in details if isinstance(d, dict) and str(d.get("refId")) == ref]
    chosen = next((d for d in found if d.get("region") == region), None)
    if chosen is None and len(found) == 1:
        chosen = found[0]
    if chosen is None or not chosen.get("imageId"):
        raise OperationError(
            f"docker.image.fromContext: stage {upstream.get('name')!r} ({ref}) found no image "
            f"for region {region}"
        )
    return str(chosen["imageId"])


def _label(deployment: dict[str, Any]) -> str:
    where = f"{deployment['account']}/{deployment['region']}"
    return f"clusters/{deployment['index']} ({deployment['cluster']} in {where})"


def _target(deployment: dict[str, Any]) -> Target:
    return Target(
        deployment["account"],
        deployment["region"],
        deployment["serverGroupName"],
        deployment["marathonId"],
    )


def _details(deployment: dict[str, Any]) -> dict[str, Any]:
    """One deploymentDetails entry: what #deployedServerGroups() gives for it."""
    desired = deployment["capacity"]
    return {
        "account": deployment["account"],
        "region": deployment["region"],
        "cloudProvider": "dcos",
        "cluster": deployment["cluster"],
        "serverGroup": deployment["serverGroupName"],
        "capacity": {"min": desired, "max": desired, "desired": desired},
        "imageId": deployment["imageId"],
    }


@register
class Deploy(StageType):
    type = "deploy"
    label = "Deploy"
    description = (
        "Creates a new server group in each listed cluster (in parallel) and waits until it "
        "is up; with highlander, then destroys the older ones."
    )
    default_timeout = timedelta(hours=1)
    fields = (
        Field(
            "clusters",
            "Clusters",
            "json",
            required=True,
            help='[{"account": "dev", "region": "dev", "stack": "", "capacity": {"desired": 1}, '
            '"docker": {"image": {"imageId": "spinui/hello:1.0"}}, "strategy": "highlander"}]',
        ),
        Field(
            "rollback",
            "Roll back on failure",
            "json",
            help='{"onFailure": true} destroys the new server groups if the stage fails',
        ),
    )

    def accounts_changed(self, config: dict[str, Any], path: str) -> list[tuple[str, str]]:
        clusters = config.get("clusters") if isinstance(config.get("clusters"), list) else []
        return [
            found
            for index, entry in enumerate(clusters)
            if isinstance(entry, dict)
            for found in account_changed(entry, f"{path}/clusters/{index}")
        ]

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        clusters = config.get("clusters")
        if isinstance(clusters, str) and "${" in clusters:
            return []
        if not isinstance(clusters, list) or not clusters:
            return [ConfigError(f"{path}/clusters", "give at least one cluster to deploy")]
        errors = []
        for index, entry in enumerate(clusters):
            if isinstance(entry, dict) and _has_expression(entry):
                continue  # checked when the stage starts, once evaluated
            errors += entry_errors(entry, f"{path}/clusters/{index}")
        return errors

    def run(self, run: StageRun) -> Outcome:
        deployments = [dict(d) for d in run.context.get("deployments") or []]
        if not deployments:
            try:
                deployments = self._plan(run)
            except (OperationError, DcosError) as error:
                message = error.message if isinstance(error, DcosError) else str(error)
                return Outcome(Status.TERMINAL, error=message)
        waiting = []
        for deployment in deployments:
            if deployment.get("done"):
                continue
            try:
                still = self._advance(run, deployment)
            except (OperationError, DcosError) as error:
                if isinstance(error, DcosError) and not error.permanent:
                    waiting.append(f"{_label(deployment)}: {error.message}")  # try again
                    continue
                message = error.message if isinstance(error, DcosError) else str(error)
                return Outcome(
                    Status.TERMINAL,
                    context=self._recorded(deployments),
                    error=f"{_label(deployment)}: {message}",
                )
            if still:
                waiting.append(f"{deployment['serverGroupName']}: {still}")
        recorded = {**self._recorded(deployments), "waitingFor": waiting}
        if waiting:
            return Outcome(Status.RUNNING, context=recorded, delay=poll_seconds())
        sg.refresh_cache([_target(d) for d in deployments])
        keys = ("deploy.server.groups", "serverGroupNames", "deploymentDetails")
        return Outcome(Status.SUCCEEDED, context=recorded, outputs={k: recorded[k] for k in keys})

    def _advance(self, run: StageRun, deployment: dict[str, Any]) -> str:
        """One look at one cluster: create its server group, or see whether Marathon is done
        with it. What it still waits for, "" once it is up."""
        if "marathonId" not in deployment:
            self._create(run, deployment)
            return "created"  # Marathon has only just started it
        operations = sg.operations(deployment["account"], deployment["region"])
        progress = operations.progress(deployment["marathonId"])
        deployment["done"] = progress.done
        return "" if progress.done else waiting_message(progress)

    @staticmethod
    def _recorded(deployments: list[dict[str, Any]]) -> dict[str, Any]:
        created = [d for d in deployments if "marathonId" in d]
        return {
            "deployments": deployments,
            **_deployed([_target(d) for d in created]),
            "deploymentDetails": [_details(d) for d in created],
        }

    def _plan(self, run: StageRun) -> list[dict[str, Any]]:
        """Every entry checked, permitted and its image known before anything is created."""
        clusters = run.context.get("clusters")
        if not isinstance(clusters, list) or not clusters:
            raise OperationError("clusters: give at least one cluster to deploy")
        errors = [e for i, c in enumerate(clusters) for e in entry_errors(c, f"/clusters/{i}")]
        if errors:
            raise OperationError("; ".join(f"{e.path}: {e.message}" for e in errors))
        application = run.execution["application"]
        for entry in clusters:
            sg.check_may_write(run.run_as, application, sg.account_of(entry))
        operation_id = CreateServerGroup.operation_id(run)
        deployments = []
        for index, entry in enumerate(clusters):
            deployment = {
                "index": index,
                "account": sg.account_of(entry),
                "region": str(entry["region"]),
                "cluster": cluster_of(application, entry).cluster,
                "strategy": entry.get("strategy") or "",
                "capacity": ops.desired_instances(entry)[0],
                "operationId": f"{operation_id}-{index}",
            }
            try:
                deployment["imageId"] = self._image(run, entry, deployment["region"])
            except OperationError as error:
                raise OperationError(f"{_label(deployment)}: {error}") from None
            deployments.append(deployment)
        return deployments

    @staticmethod
    def _image(run: StageRun, entry: dict[str, Any], region: str) -> str:
        source = _image_source(entry)
        if source.get("fromTrigger"):
            trigger = run.execution.get("trigger") or {}
            return image_from_trigger(trigger, source, sg.account_of(entry))
        if source.get("fromContext"):
            return image_from_context(run.execution, source, region)
        docker = entry.get("docker")
        return ops.image_of(docker) if isinstance(docker, dict) else ""

    @staticmethod
    def _create(run: StageRun, deployment: dict[str, Any]) -> None:
        entry = run.context["clusters"][deployment["index"]]
        application = run.execution["application"]
        app_id, found = create_server_group(
            account=deployment["account"],
            region=deployment["region"],
            operation_id=deployment["operationId"],
            source=lambda: (
                _description(entry, deployment["imageId"]),
                cluster_of(application, entry),
            ),
        )
        deployment["marathonId"] = app_id
        deployment["serverGroupName"] = app_id.rsplit("/", 1)[1]
        deployment["foundExisting"] = found

    def cancel(self, run: StageRun) -> dict[str, Any]:
        """Stop Marathon's deployments where they stand; the server groups stay. What each
        was still waiting for becomes the reason (a timeout's error shows it)."""
        if run.context.get("manualSkip"):
            return {}  # skipped by hand: Marathon may finish what it started
        reasons = []
        for deployment in run.context.get("deployments") or []:
            if deployment.get("done") or "marathonId" not in deployment:
                continue
            name = deployment["serverGroupName"]
            try:
                operations = sg.operations(deployment["account"], deployment["region"])
                server_group = operations.marathon.server_group(deployment["marathonId"])
                for marathon_deployment in server_group.deployments if server_group else ():
                    operations.stop_deployment(marathon_deployment.id)
                progress = operations.progress(deployment["marathonId"])
            except (OperationError, DcosError) as error:
                message = error.message if isinstance(error, DcosError) else str(error)
                reasons.append(f"{name}: could not stop its deployment: {message}")
                continue
            if not progress.done:
                reasons.append(f"{name}: {waiting_message(progress)}")
        return {"cancelReason": "; ".join(reasons)} if reasons else {}

    def after_stages(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        """Highlander: once every new server group is up, one shrinkCluster per cluster and
        region keeps only the newest."""
        shrinks: dict[tuple[str, str, str], dict[str, Any]] = {}
        for deployment in context.get("deployments") or []:
            if deployment.get("strategy") != "highlander":
                continue
            account, region, cluster = (deployment[k] for k in ("account", "region", "cluster"))
            shrinks[(account, region, cluster)] = {
                "type": "shrinkCluster",
                "name": f"Shrink cluster {cluster} in {region}",
                "credentials": account,
                "regions": [region],
                "cluster": cluster,
                "shrinkToSize": 1,
                "allowDeleteActive": True,
                "retainLargerOverNewer": False,
            }
        return list(shrinks.values())

    def failure_stages(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        """Deck's rollback.onFailure (on the stage or an entry): destroy what was created."""
        clusters = context.get("clusters") if isinstance(context.get("clusters"), list) else []
        destroys = []
        for deployment in context.get("deployments") or []:
            entry = clusters[deployment["index"]] if deployment["index"] < len(clusters) else {}
            if "marathonId" not in deployment or not (
                _rollback_on_failure(context) or _rollback_on_failure(entry)
            ):
                continue
            destroys.append(
                {
                    "type": "destroyServerGroup",
                    "name": f"Roll back {deployment['serverGroupName']} in {deployment['region']}",
                    "credentials": deployment["account"],
                    "regions": [deployment["region"]],
                    "serverGroupName": deployment["serverGroupName"],
                }
            )
        return destroys


def _rollback_on_failure(config: Any) -> bool:
    rollback = config.get("rollback") if isinstance(config, dict) else None
    return isinstance(rollback, dict) and rollback.get("onFailure") is True
