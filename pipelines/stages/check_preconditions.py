import operator
from typing import Any

from pipelines import server_groups as sg
from pipelines.expressions import ExpressionError
from pipelines.server_groups import OperationError
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.stages.clusters import (
    cluster_errors,
    count_errors,
    count_of,
    flag,
    members_of,
    readable_cluster,
)
from pipelines.stages.server_groups import _failed
from pipelines.status import Status
from providers.dcos.transport import DcosError

KINDS = ("expression", "stageStatus", "clusterSize")
COMPARISONS = {
    "==": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@register
class CheckPreconditions(StageType):
    type = "checkPreconditions"
    label = "Check Preconditions"
    description = (
        "Fails unless every precondition holds: an expression, a stage's status, or the "
        "number of server groups of a cluster."
    )
    fields = (Field("preconditions", "Preconditions", "json", required=True),)

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        preconditions = config.get("preconditions")
        if not isinstance(preconditions, list) or not preconditions:
            return [ConfigError(f"{path}/preconditions", "give at least one precondition")]
        errors = []
        for index, precondition in enumerate(preconditions):
            where = f"{path}/preconditions/{index}"
            if not isinstance(precondition, dict) or precondition.get("type") not in KINDS:
                errors.append(ConfigError(f"{where}/type", f"use one of {', '.join(KINDS)}"))
                continue
            context = precondition.get("context")
            if precondition["type"] == "clusterSize":
                errors += self._cluster_size_errors(context, f"{where}/context")
                continue
            needed = (
                ("expression",)
                if precondition["type"] == "expression"
                else ("stageName", "stageStatus")
            )
            for key in needed:
                if not isinstance(context, dict) or not context.get(key):
                    errors.append(ConfigError(f"{where}/context/{key}", "is required"))
        return errors

    @staticmethod
    def _cluster_size_errors(context: Any, path: str) -> list[ConfigError]:
        if not isinstance(context, dict):
            return [ConfigError(path, "give {credentials, regions, cluster, expected}")]
        errors = cluster_errors(context, path) + count_errors(context, path, ("expected",))
        comparison = context.get("comparison", "==")
        if comparison not in COMPARISONS and "${" not in str(comparison):
            errors.append(ConfigError(f"{path}/comparison", f"one of {' '.join(COMPARISONS)}"))
        return errors

    def run(self, run: StageRun) -> Outcome:
        for index, precondition in enumerate(run.context.get("preconditions") or []):
            if precondition["type"] == "clusterSize":
                try:
                    held, why = self._cluster_size(precondition.get("context") or {}, run)
                except (OperationError, DcosError) as error:
                    outcome = _failed(error)
                    if outcome.status == Status.RUNNING:  # Marathon did not answer: look again
                        return outcome
                    held, why = False, outcome.error
            else:
                held, why = self._check(precondition, run)
            if not held:
                fail_pipeline = precondition.get("failPipeline", True)
                return Outcome(
                    Status.TERMINAL if fail_pipeline else Status.STOPPED,
                    error=f"precondition {index + 1} ({precondition['type']}) failed: {why}",
                )
        return Outcome(Status.SUCCEEDED)

    def _check(self, precondition: dict, run: StageRun) -> tuple[bool, str]:
        context = precondition.get("context") or {}
        if precondition["type"] == "expression":
            expression = context["expression"]
            if isinstance(expression, bool):
                return expression, f"{expression} is false"
            text = str(expression).strip()
            template = text if text.startswith("${") else "${" + text + "}"
            try:
                value = run.evaluate(template, None)
            except ExpressionError as error:
                return False, f"{error.message} (column {error.column})"
            return value is True or value == "true", f"{text} is {value!r}, not true"
        wanted = context["stageStatus"]
        found = [s for s in run.execution["stages"] if s["name"] == context["stageName"]]
        if not found:
            return False, f"no stage is named {context['stageName']!r}"
        status = found[0]["status"]
        return status == wanted, f"stage {context['stageName']!r} is {status}, not {wanted}"

    @staticmethod
    def _cluster_size(context: dict, run: StageRun) -> tuple[bool, str]:
        """Orca's ClusterSizePreconditionTask: the cluster's server groups in each region
        (only enabled ones with onlyEnabledServerGroups) compared with `expected`."""
        account = sg.account_of(context)
        cluster = readable_cluster(context, run.run_as)
        expected = count_of(context.get("expected", 1))
        comparison = str(context.get("comparison", "=="))
        if expected is None or comparison not in COMPARISONS:
            return False, f"cannot compare {comparison!r} with {context.get('expected')!r}"
        only_enabled = flag(context.get("onlyEnabledServerGroups"))
        if not sg.regions_of(context):
            return False, "give the region (or regions) to count in"
        for region in sg.regions_of(context):
            members = members_of(account, region, cluster)
            if only_enabled:
                members = [m for m in members if not m.disabled]
            if not COMPARISONS[comparison](len(members), expected):
                enabled = "enabled " if only_enabled else ""
                names = ", ".join(m.name for m in members) or "none"
                return False, (
                    f"cluster {cluster} in {region} has {len(members)} {enabled}server groups, "
                    f"expected {comparison} {expected} ({names})"
                )
        return True, ""
