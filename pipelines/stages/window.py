"""Execution windows (Orca's RestrictExecutionDuringTimeWindow): a synthetic stage before the
one that asked for it, waiting until the clock, in the configured time zone, is inside one of
the allowed hours on an allowed day (1 = Sunday)."""

import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from pipelines.stages import ConfigError, Outcome, StageRun, StageType, register
from pipelines.status import Status

TYPE = "restrictExecutionDuringTimeWindow"


def window_zone() -> ZoneInfo:
    return ZoneInfo(settings.SPINUI_EXECUTION_WINDOW_TIMEZONE)


def orca_day(moment: datetime) -> int:
    """1 = Sunday … 7 = Saturday."""
    return (moment.weekday() + 1) % 7 + 1


def _spans(window: dict) -> list[tuple[time, time]]:
    spans = [
        (time(int(w["startHour"]), int(w["startMin"])), time(int(w["endHour"]), int(w["endMin"])))
        for w in window.get("whitelist") or []
    ]
    return spans or [(time(0, 0), time(0, 0))]  # days without hours: the whole day


def _inside(moment: datetime, window: dict) -> bool:
    days = window.get("days") or list(range(1, 8))
    if orca_day(moment) not in days:
        return False
    now = moment.time()
    for start, end in _spans(window):
        if start == end:
            return True
        if start < end and start <= now < end:
            return True
        if start > end and (now >= start or now < end):  # across midnight
            return True
    return False


def next_opening(now: datetime, window: dict) -> datetime | None:
    """The first moment at or after NOW inside the window, in NOW's time zone."""
    if _inside(now, window):
        return now
    candidates = []
    for offset in range(0, 9):
        day = (now + timedelta(days=offset)).date()
        starts = [start for start, _ in _spans(window)] + [time(0, 0)]
        for start in starts:
            moment = datetime.combine(day, start, tzinfo=now.tzinfo)
            if moment > now and _inside(moment, window):
                candidates.append(moment)
    return min(candidates, default=None)


def validate_window(window: Any, path: str) -> list[ConfigError]:
    if not isinstance(window, dict):
        return [ConfigError(path, "give {whitelist, days, jitter}")]
    errors = []
    for index, span in enumerate(window.get("whitelist") or []):
        for key, top in (("startHour", 23), ("startMin", 59), ("endHour", 23), ("endMin", 59)):
            value = span.get(key) if isinstance(span, dict) else None
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                errors.append(ConfigError(f"{path}/whitelist/{index}/{key}", f"give 0 to {top}"))
    days = window.get("days") or []
    if not isinstance(days, list) or any(d not in range(1, 8) for d in days):
        errors.append(ConfigError(f"{path}/days", "give days 1 (Sunday) to 7 (Saturday)"))
    jitter = window.get("jitter") or {}
    if jitter.get("enabled"):
        low, high = jitter.get("minDelay", 0), jitter.get("maxDelay", 0)
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
            errors.append(ConfigError(f"{path}/jitter", "minDelay must be 0 to maxDelay seconds"))
    return errors


@register
class ExecutionWindow(StageType):
    type = TYPE
    label = "Execution window"
    description = "Waits for the stage's execution window."

    def run(self, run: StageRun) -> Outcome:
        if run.context.get("skipRemainingWait"):
            return Outcome(Status.SUCCEEDED, context={"skipped": "by hand"})
        window = run.context.get("restrictedExecutionWindow") or {}
        now = run.now.astimezone(window_zone())
        jitter_until = run.context.get("jitterUntil")
        if jitter_until:
            remaining = (datetime.fromisoformat(jitter_until) - now).total_seconds()
            if remaining <= 0:
                return Outcome(Status.SUCCEEDED)
            return Outcome(Status.RUNNING, delay=remaining)
        opening = next_opening(now, window)
        if opening is None:
            return Outcome(Status.TERMINAL, error="the execution window never opens")
        if opening > now:
            return Outcome(
                Status.RUNNING,
                context={"nextWindowStart": opening.isoformat()},
                delay=(opening - now).total_seconds(),
            )
        jitter = window.get("jitter") or {}
        manual = run.execution.get("trigger", {}).get("type") == "manual"
        if jitter.get("enabled") and not (jitter.get("skipManual") and manual):
            delay = random.randint(jitter.get("minDelay", 0), jitter.get("maxDelay", 0))  # noqa: S311
            if delay > 0:
                until = now + timedelta(seconds=delay)
                return Outcome(
                    Status.RUNNING, context={"jitterUntil": until.isoformat()}, delay=delay
                )
        return Outcome(Status.SUCCEEDED)
