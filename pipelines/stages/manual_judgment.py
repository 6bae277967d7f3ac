from datetime import timedelta
from typing import Any

from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.status import Status

# A waiting judgment is woken by the judge's click; this poll is only a safety net.
POLL_SECONDS = 300.0


@register
class ManualJudgment(StageType):
    type = "manualJudgment"
    label = "Manual Judgment"
    description = "Waits for an authorised person to continue or stop the pipeline."
    fields = (
        Field("instructions", "Instructions", "textarea"),
        Field("judgmentInputs", "Input choices ([{value}])", "json"),
        Field("selectedStageRoles", "Roles that may judge", "json"),
    )
    default_timeout = timedelta(days=3)

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        errors = []
        inputs = config.get("judgmentInputs", [])
        if not isinstance(inputs, list) or not all(
            isinstance(i, dict) and isinstance(i.get("value"), str) for i in inputs
        ):
            errors.append(ConfigError(f"{path}/judgmentInputs", "give a list of {value}"))
        roles = config.get("selectedStageRoles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            errors.append(ConfigError(f"{path}/selectedStageRoles", "give a list of role names"))
        return errors

    def run(self, run: StageRun) -> Outcome:
        judgment = run.context.get("judgmentStatus")
        if judgment == "continue":
            return Outcome(Status.SUCCEEDED)
        if judgment == "stop":
            who = run.context.get("lastModifiedBy") or "someone"
            return Outcome(Status.TERMINAL, error=f"stopped by {who} at the manual judgment")
        return Outcome(Status.RUNNING, delay=POLL_SECONDS)

    def prepare_restart(self, context: dict[str, Any]) -> dict[str, Any]:
        for key in ("judgmentStatus", "judgmentInput", "lastModified", "lastModifiedBy"):
            context.pop(key, None)
        return context
