from typing import Any

from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.status import Status


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


@register
class Wait(StageType):
    type = "wait"
    label = "Wait"
    description = "Waits the given number of seconds; can be cut short by hand."
    fields = (Field("waitTime", "Wait time (seconds)", "number", required=True),)

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        wait_time = config.get("waitTime")
        if is_expression(wait_time):
            return []
        if isinstance(wait_time, bool) or not isinstance(wait_time, int | float | str):
            return [ConfigError(f"{path}/waitTime", "give the seconds to wait as a number")]
        try:
            seconds = float(wait_time)
        except ValueError:
            return [ConfigError(f"{path}/waitTime", f"{wait_time!r} is not a number")]
        if seconds < 0:
            return [ConfigError(f"{path}/waitTime", "cannot be negative")]
        return []

    def run(self, run: StageRun) -> Outcome:
        if run.context.get("skipRemainingWait"):
            return Outcome(Status.SUCCEEDED)
        try:
            seconds = float(run.context.get("waitTime", 0))
        except (TypeError, ValueError):
            return Outcome(
                Status.TERMINAL,
                error=f"waitTime {run.context.get('waitTime')!r} is not a number of seconds",
            )
        remaining = seconds - run.elapsed.total_seconds()
        if remaining <= 0:
            return Outcome(Status.SUCCEEDED)
        return Outcome(Status.RUNNING, delay=remaining)
