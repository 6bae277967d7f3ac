"""One handler per message type, each claiming its row with a conditional UPDATE, so a
redelivered or duplicated message changes nothing (DESIGN.md "The engine").

A stage runs in three steps: `start_stage` claims it and evaluates its config; its type's
`run` happens outside any transaction, under a lease (`wake_at` pushed ahead, so the sweeper
retries it if the worker dies); `_record` stores the outcome only if the lease still holds,
then either schedules the next look or completes the stage and starts what follows.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from pipelines.engine import messages
from pipelines.engine.clock import now
from pipelines.engine.serialize import execution_json
from pipelines.expressions import Environment, ExpressionError, evaluate_config, stage_scope
from pipelines.expressions import evaluate_template as _evaluate_template
from pipelines.models import Execution, ExecutionEvent, Stage
from pipelines.stages import Outcome, StageRun, stage_type_for
from pipelines.stages.window import TYPE as WINDOW
from pipelines.status import COMPLETE, HALT, LETS_DOWNSTREAM_RUN, Status

logger = logging.getLogger(__name__)

ACTIVE = (Status.RUNNING, Status.PAUSED, Status.SUSPENDED)
# A stage that ended in one of these runs its on-failure stages, even when the pipeline goes
# on past it (a rollback must not depend on whether the failure stops the pipeline).
FAILED = (Status.TERMINAL, Status.STOPPED, Status.FAILED_CONTINUE)


def token(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _lease() -> datetime:
    return now() + timedelta(seconds=settings.SPINUI_ENGINE_LEASE_SECONDS)


def event(execution: Execution, status: str, stage: Stage | None = None, **details) -> None:
    ExecutionEvent.objects.create(execution=execution, stage=stage, status=status, details=details)


# Executions


def start_execution(execution_id: str) -> None:
    with transaction.atomic():
        execution = Execution.objects.select_related("pipeline").get(id=execution_id)
        if execution.status != Status.NOT_STARTED or execution.canceled:
            return
        if must_queue(execution):
            return
        claimed = Execution.objects.filter(id=execution.id, status=Status.NOT_STARTED).update(
            status=Status.RUNNING, start_time=now(), updated_at=now()
        )
        if not claimed:
            return
        event(execution, Status.RUNNING)
        for stage in execution.stages.filter(parent=None):
            if not stage.requisite_ref_ids:
                messages.send("start_stage", str(stage.id))


def must_queue(execution: Execution) -> bool:
    """limitConcurrent / maxConcurrentExecutions: wait while others of the pipeline run."""
    if execution.pipeline_id is None:
        return False
    config = execution.config
    others = Execution.objects.filter(pipeline_id=execution.pipeline_id, status__in=ACTIVE)
    if config.get("limitConcurrent"):
        return others.exists()
    limit = config.get("maxConcurrentExecutions") or 0
    return limit > 0 and others.count() >= limit


def start_waiting(pipeline_id: str) -> None:
    """When an execution ends, the queue moves (Orca's StartWaitingExecutionsHandler)."""
    waiting = list(
        Execution.objects.filter(
            pipeline_id=pipeline_id, status=Status.NOT_STARTED, canceled=False
        ).order_by("build_time")
    )
    if not waiting:
        return
    if waiting[-1].config.get("keepWaitingPipelines") or not waiting[-1].config.get(
        "limitConcurrent"
    ):
        messages.send("start_execution", str(waiting[0].id))
        return
    newest, superseded = waiting[-1], waiting[:-1]
    for execution in superseded:
        cancel_queued(execution, "superseded by a newer execution of the pipeline")
    messages.send("start_execution", str(newest.id))


def cancel_queued(execution: Execution, reason: str) -> None:
    claimed = Execution.objects.filter(id=execution.id, status=Status.NOT_STARTED).update(
        status=Status.CANCELED,
        canceled=True,
        canceled_by="spinui",
        cancellation_reason=reason,
        end_time=now(),
    )
    if claimed:
        event(execution, Status.CANCELED, reason=reason)


def final_status(execution: Execution, top_level: list[Stage]) -> Status:
    """CompleteExecutionHandler's rules (spinnaker-semantics §2.2)."""
    if execution.canceled:
        return Status.CANCELED
    statuses = {stage.status for stage in top_level}
    if statuses <= {Status.SUCCEEDED, Status.SKIPPED, Status.FAILED_CONTINUE}:
        return Status.SUCCEEDED
    if Status.TERMINAL in statuses:
        return Status.TERMINAL
    if Status.CANCELED in statuses:
        return Status.CANCELED
    for stage in top_level:
        if stage.status == Status.STOPPED and stage.config.get("completeOtherBranchesThenFail"):
            return Status.TERMINAL
    return Status.SUCCEEDED


def complete_execution(execution: Execution, status: Status | None = None) -> None:
    execution.refresh_from_db(fields=["canceled"])
    top_level = list(execution.stages.filter(parent=None))
    status = status or final_status(execution, top_level)
    claimed = Execution.objects.filter(id=execution.id, status__in=ACTIVE).update(
        status=status, end_time=now(), updated_at=now()
    )
    if not claimed:
        return
    event(execution, status)
    for stage in top_level:
        if stage.status in ACTIVE:
            # Their handlers see the execution ended and cancel what they do.
            wake(stage)
    if execution.pipeline_id:
        start_waiting(execution.pipeline_id)
    parent_stage = execution.trigger.get("parentPipelineStageId")
    if parent_stage:
        # A pipeline stage waits for this execution; tell it now rather than at its next poll.
        for stage in Stage.objects.filter(id=parent_stage, status=Status.RUNNING):
            if stage.wake_at is not None:
                wake(stage)


# Stages


def _ready(stage: Stage, siblings: list[Stage]) -> bool:
    """May STAGE start: its requisites (or, synthetic, its earlier siblings) let it?"""
    if stage.parent_id is None:
        by_ref = {s.ref_id: s for s in siblings if s.parent_id is None}
        return all(
            ref in by_ref and by_ref[ref].status in LETS_DOWNSTREAM_RUN
            for ref in stage.requisite_ref_ids
        )
    earlier = [
        s
        for s in siblings
        if s.parent_id == stage.parent_id
        and s.synthetic_owner == stage.synthetic_owner
        and _position(s) < _position(stage)
    ]
    return all(s.status in LETS_DOWNSTREAM_RUN for s in earlier)


def _position(stage: Stage) -> int:
    return int(stage.ref_id.rsplit("<" if stage.synthetic_owner == Stage.BEFORE else ">", 1)[1])


def start_stage(stage_id: str) -> None:
    started = now()  # a stage starts when its handler takes it up; evaluating it is its work
    with transaction.atomic():
        stage = Stage.objects.select_related("execution__application").get(id=stage_id)
        execution = stage.execution
        if stage.status != Status.NOT_STARTED or execution.status != Status.RUNNING:
            return
        stages = list(execution.stages.all())
        if execution.canceled or not _ready(stage, stages):
            return
        verdict = _prepare(stage, execution, stages)
        lease = _lease()
        # The claim writes the evaluated context too: one statement, not two.
        claimed = Stage.objects.filter(id=stage.id, status=Status.NOT_STARTED).update(
            status=Status.RUNNING, start_time=started, wake_at=lease, context=stage.context
        )
        if not claimed:
            return
        stage.status, stage.start_time, stage.wake_at = Status.RUNNING, started, lease
        event(execution, Status.RUNNING, stage)
        if verdict is not None:
            status, error, context = verdict
            _complete(stage, status, error=error, context=context)
            return
        befores = _before_stages(stage, stage_type_for(stage.type))
        if befores:
            _add_children(stage, befores, Stage.BEFORE)
            return
    # What was just read and written is current: no need to read it again to run.
    _execute(stage, lease, [stage if s.id == stage.id else s for s in stages])


def _prepare(
    stage: Stage, execution: Execution, stages: list[Stage]
) -> tuple[Status, str, dict] | None:
    """Evaluate the stage's config into its context. None: run it; else how it ends at once
    (status, error, context to record): unknown type, disabled, or failed expressions."""
    stage_type = stage_type_for(stage.type)
    if stage_type is None:
        return Status.TERMINAL, f"unknown stage type {stage.type!r}", {}
    exec_json = execution_json(execution, stages)
    me = next(s for s in exec_json["stages"] if s["id"] == str(stage.id))
    me["context"] = dict(stage.config)
    root = stage_scope(me, exec_json)
    environment = Environment(
        current_stage_id=str(stage.id), user=execution.run_as, unknown_keys_are_null=True
    )

    enabled, why = _enabled(stage, root, environment)
    if not enabled:
        return Status.SKIPPED, "", {"stageEnabled": why}

    raw = {key: stage.config[key] for key in stage_type.raw_keys if key in stage.config}
    to_evaluate = {k: v for k, v in stage.config.items() if k not in raw}
    evaluated, summary = evaluate_config(to_evaluate, root, environment=environment)
    context = {**evaluated, **raw, **stage.context}
    if summary:
        context["expressionEvaluationSummary"] = summary
    stage.context = context
    failed = [
        text for text, entries in summary.items() if any(e["level"] == "ERROR" for e in entries)
    ]
    if failed and stage.config.get("failOnFailedExpressions"):
        return Status.TERMINAL, f"expressions failed: {', '.join(failed)}", {}
    timeout = context.get("stageTimeoutMs")
    if timeout is not None and _milliseconds(timeout) is None:
        return Status.TERMINAL, f"stageTimeoutMs is {timeout!r}, not a positive number of ms", {}
    return None


def _milliseconds(value: Any) -> int | None:
    """A positive whole number of ms (an expression may give it as text), else None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and not isinstance(value, bool) else None


def _enabled(stage: Stage, root: dict, environment: Environment) -> tuple[bool, str]:
    """stageEnabled: an expression that must give true; if it fails, Orca skips the stage."""
    condition = stage.config.get("stageEnabled")
    if not isinstance(condition, dict) or condition.get("type") != "expression":
        return True, ""
    expression = str(condition.get("expression", "")).strip()
    template = expression if expression.startswith("${") else "${" + expression + "}"
    try:
        value = _evaluate_template(template, root, environment=environment)
    except ExpressionError as error:
        return False, f"skipped: {expression!r} failed at column {error.column}: {error.message}"
    if value is True or str(value).lower() == "true":
        return True, ""
    return False, f"skipped: {expression!r} is {value!r}"


def _before_stages(stage: Stage, stage_type) -> list[dict[str, Any]]:
    befores = list(stage_type.before_stages(stage.context))
    if stage.context.get("restrictExecutionDuringTimeWindow"):
        window = {
            "type": WINDOW,
            "name": "Restrict Execution During",
            "restrictedExecutionWindow": stage.context.get("restrictedExecutionWindow") or {},
        }
        befores.insert(0, window)
    return befores


def _add_children(parent: Stage, configs: list[dict[str, Any]], owner: str) -> None:
    mark = "<" if owner == Stage.BEFORE else ">"
    offset = parent.children.filter(synthetic_owner=owner).count()
    first = None
    for index, config in enumerate(configs, start=offset):
        child = Stage.objects.create(
            execution_id=parent.execution_id,
            ref_id=f"{parent.ref_id}{mark}{index}",
            type=config["type"],
            name=config.get("name", config["type"]),
            config=config,
            parent=parent,
            synthetic_owner=owner,
        )
        first = first or child
    Stage.objects.filter(id=parent.id).update(wake_at=None)
    messages.send("start_stage", str(first.id))


def run_stage(stage_id: str, expected_wake: str | None) -> None:
    with transaction.atomic():
        stage = Stage.objects.filter(id=stage_id).first()
        if stage is None or stage.status != Status.RUNNING or token(stage.wake_at) != expected_wake:
            return
        lease = _lease()
        claimed = Stage.objects.filter(
            id=stage.id, status=Status.RUNNING, wake_at=stage.wake_at
        ).update(wake_at=lease)
        if not claimed:
            return
    _execute(stage, lease)


def _execute(stage: Stage, lease: datetime, stages: list[Stage] | None = None) -> None:
    """Run the stage's type once, outside any transaction, then record what it found."""
    if stages is None:
        stage = Stage.objects.select_related("execution__application").get(id=stage.id)
    execution = stage.execution
    stage_type = stage_type_for(stage.type)
    run = _stage_run(stage, execution, stages)
    if execution.canceled or execution.status in COMPLETE:
        outcome = Outcome(Status.CANCELED, context=stage_type.cancel(run))
    elif stage.context.get("manualSkip"):
        outcome = Outcome(Status.SKIPPED, context=stage_type.cancel(run))
    elif _timed_out(stage, stage_type, run):
        stopped = stage_type.cancel(run)
        # The stage's word on what it was still waiting for, e.g. Marathon's last task failure.
        reason = f": {stopped['cancelReason']}" if stopped.get("cancelReason") else ""
        outcome = Outcome(
            Status.TERMINAL,
            context=stopped,
            error=f"timed out after {run.elapsed.total_seconds():.0f} s{reason}",
        )
    else:
        try:
            outcome = stage_type.run(run)
        except Exception as error:  # a stage type's bug fails its stage, not the worker
            logger.exception("stage %s (%s) failed", stage.id, stage.type)
            outcome = Outcome(Status.TERMINAL, error=f"{type(error).__name__}: {error}")
    _record(stage, lease, outcome)


def _stage_run(stage: Stage, execution: Execution, stages: list[Stage] | None) -> StageRun:
    exec_json = execution_json(execution, stages)

    def evaluate(template: str, extra: dict[str, Any] | None) -> Any:
        me = next(s for s in exec_json["stages"] if s["id"] == str(stage.id))
        root = {**stage_scope(me, exec_json), **(extra or {})}
        environment = Environment(
            current_stage_id=str(stage.id), user=execution.run_as, unknown_keys_are_null=True
        )
        return _evaluate_template(template, root, environment=environment)

    return StageRun(
        stage_id=str(stage.id),
        execution_id=str(execution.id),
        ref_id=stage.ref_id,
        name=stage.name,
        context=stage.context,
        started_at=_run_started(stage),
        now=now(),
        run_as=execution.run_as,
        execution=exec_json,
        evaluate=evaluate,
        paused_ms=int(stage.context.get("pausedMs", 0)),
    )


def _run_started(stage: Stage) -> datetime:
    if "runStartedAt" in stage.context:
        return datetime.fromisoformat(stage.context["runStartedAt"])
    return stage.start_time or now()


def _timed_out(stage: Stage, stage_type, run: StageRun) -> bool:
    limit = stage_type.default_timeout
    if stage.context.get("overrideTimeout") and stage.context.get("stageTimeoutMs"):
        limit = timedelta(milliseconds=int(stage.context["stageTimeoutMs"]))
    return limit is not None and run.elapsed > limit


def _record(stage: Stage, lease: datetime, outcome: Outcome) -> None:
    """Store what a run found, if the lease still holds: anyone who acted on the stage
    meanwhile (cancel, pause, restart, skip, a judgment) moved its wake_at, and wins."""
    with transaction.atomic():
        context = {**stage.context, **outcome.context}
        outputs = {**stage.outputs, **outcome.outputs}
        if outcome.status == Status.RUNNING:
            wake_at = now() + timedelta(seconds=max(outcome.delay, 0))
            held = Stage.objects.filter(id=stage.id, status=Status.RUNNING, wake_at=lease).update(
                context=context, outputs=outputs, wake_at=wake_at
            )
            if held:
                messages.send("run_stage", str(stage.id), token(wake_at), delay=outcome.delay)
            return
        stage.context, stage.outputs = context, outputs
        status = outcome.status
        if status == Status.TERMINAL:
            status = failure_status(context)
        _complete(stage, status, error=outcome.error, lease=lease)


def failure_status(config: dict[str, Any]) -> Status:
    """Orca's ext/Stage.kt: continuePipeline → FAILED_CONTINUE; failPipeline (default) →
    TERMINAL; otherwise STOPPED."""
    if config.get("continuePipeline"):
        return Status.FAILED_CONTINUE
    if config.get("failPipeline", True):
        return Status.TERMINAL
    return Status.STOPPED


def _complete(
    stage: Stage,
    status: Status,
    error: str = "",
    context: dict | None = None,
    lease: datetime | None = None,
) -> None:
    """Complete STAGE (in the caller's transaction), then move on: its after or on-failure
    stages, its parent, or the stages downstream and the execution. With LEASE, only if the
    stage still holds it."""
    stage_type = stage_type_for(stage.type)
    mine = Stage.objects.filter(id=stage.id, status__in=ACTIVE)
    if lease is not None:
        mine = mine.filter(wake_at=lease)
    if context:
        stage.context = {**stage.context, **context}
    if stage_type and not stage.context.get("_syntheticAfterPlanned"):
        if status == Status.SUCCEEDED:
            afters = stage_type.after_stages(stage.context)
        elif status in FAILED:
            afters = stage_type.failure_stages(stage.context)
        else:
            afters = []
        if afters:
            stage.context["_syntheticAfterPlanned"] = status
            stage.error = error
            if mine.update(context=stage.context, outputs=stage.outputs, error=error):
                _add_children(stage, afters, Stage.AFTER)
            return
    planned = stage.context.get("_syntheticAfterPlanned")
    if planned and planned != Status.SUCCEEDED and status == Status.SUCCEEDED:
        status = planned  # on-failure stages ran; the stage still failed
    claimed = mine.update(
        status=status,
        end_time=now(),
        wake_at=None,
        context=stage.context,
        outputs=stage.outputs,
        error=error or stage.error,
    )
    if not claimed:
        return
    stage.status = status
    # Touching the execution locks its row, so branches ending at once take turns deciding
    # what comes next; the row count says whether the execution is still going.
    active = Execution.objects.filter(id=stage.execution_id, status__in=ACTIVE).update(
        updated_at=now()
    )
    event(stage.execution, status, stage, error=error or stage.error)
    if stage.parent_id:
        _continue_parent(stage)
    elif active:
        _continue_execution(stage.execution, stage)


def _continue_parent(child: Stage) -> None:
    parent = Stage.objects.get(id=child.parent_id)
    if parent.status != Status.RUNNING:
        return
    siblings = list(parent.children.all())
    if child.status in HALT:
        status = failure_status(parent.context) if child.status == Status.TERMINAL else child.status
        _complete(parent, status, error=f"{child.name}: {child.error}".strip(": "))
        return
    following = [
        s
        for s in siblings
        if s.synthetic_owner == child.synthetic_owner and s.status == Status.NOT_STARTED
    ]
    if following:
        messages.send("start_stage", str(min(following, key=_position).id))
        return
    if child.synthetic_owner == Stage.BEFORE:
        # The parent's own work comes now; its waits and timeout count from here, so time
        # spent in an execution window is not held against it.
        parent.context["runStartedAt"] = now().isoformat()
        parent.save(update_fields=["context"])
        wake(parent)
        return
    failed = any(s.status == Status.FAILED_CONTINUE for s in siblings)
    _complete(parent, Status.FAILED_CONTINUE if failed else Status.SUCCEEDED)


def wake(stage: Stage) -> None:
    moment = now()
    Stage.objects.filter(id=stage.id).update(wake_at=moment)
    messages.send("run_stage", str(stage.id), token(moment))


def _continue_execution(execution: Execution, stage: Stage) -> None:
    if stage.status in (Status.TERMINAL, Status.CANCELED):
        complete_execution(execution)
        return
    stages = list(execution.stages.filter(parent=None))
    startable = [s for s in stages if s.status == Status.NOT_STARTED and _ready(s, stages)]
    for downstream in startable:
        if stage.ref_id in downstream.requisite_ref_ids:
            messages.send("start_stage", str(downstream.id))
    if not startable and not any(s.status in ACTIVE for s in stages):
        complete_execution(execution)


# The sweeper


def nudge(execution: Execution, moment: datetime, grace: timedelta) -> int:
    """Re-send whatever an execution is waiting for; safe to repeat. Returns messages sent."""
    sent = 0
    if execution.status == Status.NOT_STARTED:
        messages.send("start_execution", str(execution.id))
        return 1
    stages = list(execution.stages.all())
    for stage in stages:
        if stage.status == Status.RUNNING and stage.wake_at and stage.wake_at <= moment - grace:
            messages.send("run_stage", str(stage.id), token(stage.wake_at))
            sent += 1
        elif stage.status == Status.NOT_STARTED and _ready(stage, stages):
            parent = next((s for s in stages if s.id == stage.parent_id), None)
            if parent is None or parent.status == Status.RUNNING:
                messages.send("start_stage", str(stage.id))
                sent += 1
    top_level = [s for s in stages if s.parent_id is None]
    if not any(s.status in ACTIVE for s in top_level) and not sent:
        with transaction.atomic():
            complete_execution(execution)
    return sent


def sweep(grace_seconds: float = 2.0) -> int:
    """Fire due timers and recover lost messages. Several sweepers at once are harmless."""
    moment = now()
    grace = timedelta(seconds=grace_seconds)
    due = Stage.objects.filter(status=Status.RUNNING, wake_at__lte=moment - grace).values_list(
        "execution_id", flat=True
    )
    # Stalled: nothing changed for a while and no stage holds a timer that will wake it. An
    # execution waiting on a timer is not read at every sweep, so thousands of waiting
    # judgments cost nothing; a message it lost meanwhile is recovered once the timer fires.
    waiting = Stage.objects.filter(
        execution=OuterRef("pk"), status=Status.RUNNING, wake_at__gt=moment - grace
    )
    quiet = Execution.objects.filter(
        status__in=[Status.RUNNING, Status.NOT_STARTED], updated_at__lte=moment - grace
    ).exclude(Exists(waiting))
    sent = 0
    for execution in Execution.objects.filter(
        id__in=set(due) | set(quiet.values_list("id", flat=True))
    ):
        if execution.status == Status.NOT_STARTED and must_queue(execution):
            continue
        with transaction.atomic():
            sent += nudge(execution, moment, grace)
    return sent
