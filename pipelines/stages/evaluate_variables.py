from typing import Any

from pipelines.expressions import ExpressionError
from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.status import Status


@register
class EvaluateVariables(StageType):
    type = "evaluateVariables"
    label = "Evaluate Variables"
    description = "Sets variables, in order, that every later stage sees by name."
    fields = (Field("variables", "Variables ([{key, value}])", "json", required=True),)
    raw_keys = ("variables",)

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        variables = config.get("variables")
        if not isinstance(variables, list):
            return [ConfigError(f"{path}/variables", "give a list of {key, value}")]
        errors, seen = [], set()
        for index, variable in enumerate(variables):
            key = variable.get("key") if isinstance(variable, dict) else None
            if not isinstance(key, str) or not key:
                errors.append(ConfigError(f"{path}/variables/{index}/key", "give a name"))
            elif key in seen:
                errors.append(ConfigError(f"{path}/variables/{index}/key", f"{key!r} repeats"))
            seen.add(key)
        return errors

    def run(self, run: StageRun) -> Outcome:
        """Each value sees the variables set before it, as Orca evaluates them in sequence."""
        values: dict[str, Any] = {}
        for variable in run.context.get("variables") or []:
            value = variable.get("value")
            if isinstance(value, str):
                try:
                    value = run.evaluate(value, values)
                except ExpressionError as error:
                    return Outcome(
                        Status.TERMINAL,
                        error=f"variable {variable['key']!r}: {error.message}"
                        + (f" (column {error.column})" if error.column else ""),
                    )
            values[variable["key"]] = value
        return Outcome(Status.SUCCEEDED, outputs=values)
