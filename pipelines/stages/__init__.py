"""Stage types: one module each, one interface (DESIGN.md "The engine").

A stage type validates its config (JSON-path errors), describes its fields for the editor,
plans synthetic before/after/on-failure stages, runs (returning an Outcome: done, or "look
again in N seconds"), cancels, and prepares its context for a restart.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pipelines.status import Status


@dataclass(frozen=True)
class ConfigError:
    path: str
    message: str


@dataclass(frozen=True)
class Field:
    """How the editor shows one config key."""

    key: str
    label: str
    kind: str = "text"  # text, number, boolean, json, choice, textarea
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass
class Outcome:
    """What one run of a stage found. RUNNING means: run again after `delay` seconds."""

    status: Status
    context: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    error: str = ""


@dataclass
class StageRun:
    """What a stage type sees when it runs: its evaluated context and the moment."""

    stage_id: str
    execution_id: str
    ref_id: str
    name: str
    context: dict[str, Any]
    started_at: datetime
    now: datetime
    run_as: str
    # The execution in Orca's JSON shape, and a template ("${…}" in text) evaluated in this
    # stage's scope with extra names on top (raises ExpressionError).
    execution: dict[str, Any]
    evaluate: Callable[[str, dict[str, Any] | None], Any]
    paused_ms: int = 0

    @property
    def elapsed(self) -> timedelta:
        return self.now - self.started_at - timedelta(milliseconds=self.paused_ms)


class StageType:
    type: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    aliases: ClassVar[tuple[str, ...]] = ()
    # None: no timeout of its own; stageTimeoutMs with overrideTimeout still applies.
    default_timeout: ClassVar[timedelta | None] = None
    # Config keys the engine leaves unevaluated at start: the stage evaluates them itself.
    raw_keys: ClassVar[tuple[str, ...]] = ()

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        return []

    def accounts_changed(self, config: dict[str, Any], path: str) -> list[tuple[str, str]]:
        """(JSON path, account) of each account named literally that this stage changes, so
        a trigger's run-as user lacking WRITE there is refused when the pipeline is saved."""
        return []

    def before_stages(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        """Synthetic stages to run before this one, as stage configs."""
        return []

    def after_stages(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        """Synthetic stages to run once this one succeeded."""
        return []

    def failure_stages(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        """Synthetic stages to run when this one failed."""
        return []

    def run(self, run: StageRun) -> Outcome:
        raise NotImplementedError

    def cancel(self, run: StageRun) -> dict[str, Any]:
        """Undo or stop what is in flight; returns context to record."""
        return {}

    def prepare_restart(self, context: dict[str, Any]) -> dict[str, Any]:
        return context


REGISTRY: dict[str, StageType] = {}


def register(stage_type: type[StageType]) -> type[StageType]:
    instance = stage_type()
    for name in (stage_type.type, *stage_type.aliases):
        REGISTRY[name] = instance
    return stage_type


def stage_type_for(name: str) -> StageType | None:
    return REGISTRY.get(name)


def _load() -> None:
    from pipelines.stages import (  # noqa: F401
        check_preconditions,
        clusters,
        deploy,
        evaluate_variables,
        find_image,
        manual_judgment,
        pipeline,
        run_job,
        server_groups,
        wait,
        webhook,
        window,
    )


_load()
