from typing import Any

from pipelines.expressions import ExpressionError
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.status import Status

KINDS = ("expression", "stageStatus")


@register
class CheckPreconditions(StageType):
    type = "checkPreconditions"
    label = "Check Preconditions"
    description = "Fails unless every precondition holds: an expression, or a stage's status."
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
            needed = (
                ("expression",)
                if precondition["type"] == "expression"
                else ("stageName", "stageStatus")
            )
            for key in needed:
                if not isinstance(context, dict) or not context.get(key):
                    errors.append(ConfigError(f"{where}/context/{key}", "is required"))
        return errors

    def run(self, run: StageRun) -> Outcome:
        for index, precondition in enumerate(run.context.get("preconditions") or []):
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
