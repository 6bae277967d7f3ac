"""Every write of pipelines and executions: validated, atomic, enqueued on commit."""

import uuid
from typing import Any

from django.db import transaction

from pipelines.config import InvalidConfig, resolve_parameters, validate_pipeline, validate_stages
from pipelines.engine import handlers, messages
from pipelines.engine.clock import now
from pipelines.models import Execution, Pipeline, PipelineRevision, Stage
from pipelines.stages import ConfigError, stage_type_for
from pipelines.status import COMPLETE, Status
from spinui.audit import audit_record
from spinui.models import Account, Application
from spinui.permissions import WRITE, user_can


class Refused(Exception):
    """The request does not fit the execution's state (HTTP 409)."""


# Pipeline configs


@transaction.atomic
def pipeline_save(*, actor, application: Application, config: dict[str, Any]) -> Pipeline:
    errors, _unknown = validate_pipeline(config, application.name)
    errors += _run_as_errors(actor, config)
    if errors:
        raise InvalidConfig(errors)
    config = {**config, "application": application.name}
    pipeline_id = config.get("id") or str(uuid.uuid4())
    config["id"] = pipeline_id
    existing = Pipeline.objects.select_for_update().filter(id=pipeline_id).first()
    if existing and existing.application_id != application.id:
        raise InvalidConfig([ConfigError("/id", "a pipeline of another application has this id")])
    clash = Pipeline.objects.filter(application=application, name=config["name"]).exclude(
        id=pipeline_id
    )
    if clash.exists():
        raise InvalidConfig([ConfigError("/name", f"{config['name']!r} is taken in {application}")])
    pipeline = existing or Pipeline(id=pipeline_id, application=application)
    before = existing.config if existing else None
    pipeline.name = config["name"]
    pipeline.config = config
    pipeline.updated_by = actor.get_username()
    pipeline.save()
    number = (
        pipeline.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    PipelineRevision.objects.create(
        pipeline=pipeline, number=number, config=config, created_by=actor.get_username()
    )
    audit_record(
        actor=actor,
        action="update" if before else "create",
        target_type="pipeline",
        target_name=pipeline.name,
        application=application.name,
        changes={"revision": [number - 1 or None, number]},
    )
    return pipeline


def _run_as_errors(actor, config: dict[str, Any]) -> list[ConfigError]:
    """Automated triggers run as their `runAsUser`, a service account; naming one needs the
    right to use it: being an admin, or sharing a role with it."""
    from django.contrib.auth import get_user_model

    errors = []
    for index, trigger in enumerate(config.get("triggers") or []):
        name = trigger.get("runAsUser") if isinstance(trigger, dict) else None
        if not name:
            continue
        account = get_user_model().objects.filter(username=name, is_active=True).first()
        path = f"/triggers/{index}/runAsUser"
        if account is None:
            errors.append(ConfigError(path, f"no active user {name!r}"))
        elif (
            not actor.is_superuser
            and not actor.groups.filter(id__in=account.groups.values("id")).exists()
        ):
            errors.append(
                ConfigError(path, f"you share no role with {name!r}, so you may not run as it")
            )
        else:
            errors += _unwritable_accounts(account, config, f"trigger {index}")
    return errors


def _unwritable_accounts(user, config: dict[str, Any], trigger: str) -> list[ConfigError]:
    """Each account a stage changes that USER, a trigger's run-as user, may not WRITE: the
    execution would fail there, so the save is refused at that stage's field."""
    errors = []
    stages = config.get("stages") if isinstance(config.get("stages"), list) else []
    for index, stage in enumerate(stages):
        stage_type = stage_type_for(stage.get("type")) if isinstance(stage, dict) else None
        if stage_type is None:
            continue
        for path, name in stage_type.accounts_changed(stage, f"/stages/{index}"):
            account = Account.objects.filter(name=name).first()
            if account is not None and not user_can(user, WRITE, account):
                message = f"{user.username}, who {trigger} runs as, may not change account {name}"
                errors.append(ConfigError(path, message + " (WRITE needed)"))
    return errors


@transaction.atomic
def pipeline_delete(*, actor, pipeline: Pipeline) -> None:
    name, application = pipeline.name, pipeline.application.name
    pipeline.delete()
    audit_record(
        actor=actor,
        action="delete",
        target_type="pipeline",
        target_name=name,
        application=application,
    )


def revision_restore(*, actor, revision: PipelineRevision) -> Pipeline:
    config = {**revision.config, "name": revision.pipeline.name}
    return pipeline_save(actor=actor, application=revision.pipeline.application, config=config)


# Starting executions


def _stages_from(config: dict[str, Any]) -> list[Stage]:
    return [
        Stage(
            ref_id=str(stage["refId"]),
            type=stage["type"],
            name=stage.get("name") or stage["type"],
            config=stage,
            requisite_ref_ids=[str(r) for r in stage.get("requisiteStageRefIds") or []],
        )
        for stage in config.get("stages", [])
    ]


def _refuse_unknown_types(stages: list[Stage]) -> None:
    unknown = [
        ConfigError(f"/stages/{index}/type", f"unknown stage type {stage.type!r}")
        for index, stage in enumerate(stages)
        if stage_type_for(stage.type) is None
    ]
    if unknown:
        raise InvalidConfig(unknown)


@transaction.atomic
def execution_start(
    *, pipeline: Pipeline, trigger: dict[str, Any] | None, user, run_as: str | None = None
) -> Execution:
    """Run a saved pipeline; the trigger carries the parameters (manual by default)."""
    config = pipeline.config
    if config.get("disabled"):
        raise Refused(f"pipeline {pipeline.name!r} is disabled")
    trigger = {"type": "manual", "user": user.get_username() if user else None, **(trigger or {})}
    trigger["parameters"] = resolve_parameters(config, trigger.get("parameters"))
    stages = _stages_from(config)
    _refuse_unknown_types(stages)
    execution = Execution.objects.create(
        type=Execution.PIPELINE,
        application=pipeline.application,
        pipeline=pipeline,
        name=pipeline.name,
        config=config,
        trigger=trigger,
        run_as=run_as or (user.get_username() if user else "anonymous"),
        started_by=user if user and user.is_authenticated else None,
    )
    return _launch(execution, stages)


@transaction.atomic
def orchestration_start(
    *, application: Application, description: str, stages: list[dict[str, Any]], user
) -> Execution:
    """An ad-hoc execution with no pipeline config (Spinnaker's "tasks")."""
    stage_configs = [
        {"refId": str(index), "requisiteStageRefIds": [str(index - 1)] if index else [], **stage}
        for index, stage in enumerate(stages)
    ]
    errors, _unknown = validate_stages(stage_configs, "/job")
    if errors:
        raise InvalidConfig(errors)
    rows = _stages_from({"stages": stage_configs})
    _refuse_unknown_types(rows)
    execution = Execution.objects.create(
        type=Execution.ORCHESTRATION,
        application=application,
        name=description or "orchestration",
        config={"stages": stage_configs},
        trigger={"type": "manual", "user": user.get_username()},
        run_as=user.get_username(),
        started_by=user,
    )
    return _launch(execution, rows)


def _launch(execution: Execution, stages: list[Stage]) -> Execution:
    for stage in stages:
        stage.execution = execution
    Stage.objects.bulk_create(stages)
    handlers.event(execution, Status.NOT_STARTED)
    messages.send("start_execution", str(execution.id))
    return execution


# Controlling executions


def _locked(execution: Execution) -> Execution:
    return Execution.objects.select_for_update().get(id=execution.id)


@transaction.atomic
def execution_cancel(*, execution: Execution, user, reason: str = "") -> Execution:
    """Cancel; USER is None when spinui itself cancels (a parent pipeline was canceled)."""
    execution = _locked(execution)
    if execution.status in COMPLETE:
        raise Refused(f"the execution already ended ({execution.status})")
    by = user.get_username() if user else "spinui"
    Execution.objects.filter(id=execution.id).update(
        canceled=True, canceled_by=by, cancellation_reason=reason
    )
    execution.refresh_from_db()
    if execution.status == Status.NOT_STARTED:
        handlers.cancel_queued(execution, reason or f"canceled by {by}")
        return execution
    if execution.status == Status.PAUSED:
        _resume(execution)
    active = list(execution.stages.filter(status=Status.RUNNING))
    for stage in active:
        handlers.wake(stage)
    if not active:
        handlers.complete_execution(execution)
    return execution


@transaction.atomic
def execution_pause(*, execution: Execution, user) -> Execution:
    execution = _locked(execution)
    if execution.status != Status.RUNNING:
        raise Refused(f"only a running execution can be paused; this one is {execution.status}")
    moment = now()
    Execution.objects.filter(id=execution.id).update(status=Status.PAUSED, paused_at=moment)
    execution.stages.filter(status=Status.RUNNING).update(status=Status.PAUSED)
    handlers.event(execution, Status.PAUSED, by=user.get_username())
    execution.refresh_from_db()
    return execution


@transaction.atomic
def execution_resume(*, execution: Execution, user) -> Execution:
    execution = _locked(execution)
    if execution.status != Status.PAUSED:
        raise Refused(f"only a paused execution can be resumed; this one is {execution.status}")
    _resume(execution)
    handlers.event(execution, Status.RUNNING, by=user.get_username())
    execution.refresh_from_db()
    return execution


def _resume(execution: Execution) -> None:
    paused_ms = int((now() - execution.paused_at).total_seconds() * 1000)
    Execution.objects.filter(id=execution.id).update(
        status=Status.RUNNING, paused_at=None, paused_ms=execution.paused_ms + paused_ms
    )
    for stage in execution.stages.filter(status=Status.PAUSED):
        stage.context["pausedMs"] = int(stage.context.get("pausedMs", 0)) + paused_ms
        stage.status = Status.RUNNING
        stage.save(update_fields=["context", "status"])
        if stage.wake_at is not None:  # not waiting for its synthetic stages
            handlers.wake(stage)
    moment = now()
    handlers.nudge(execution, moment, grace=moment - moment)


def _downstream(stages: list[Stage], ref_id: str) -> list[Stage]:
    found, frontier = [], {ref_id}
    while frontier:
        following = [
            s
            for s in stages
            if s.parent_id is None and set(s.requisite_ref_ids) & frontier and s not in found
        ]
        found += following
        frontier = {s.ref_id for s in following}
    return found


@transaction.atomic
def stage_restart(*, stage: Stage, user) -> Stage:
    """Reset a finished (or never started) top-level stage and everything downstream."""
    execution = _locked(stage.execution)
    stage = Stage.objects.get(id=stage.id)
    if stage.parent_id:
        raise Refused("restart the stage it belongs to, not a synthetic stage")
    if stage.status not in COMPLETE and stage.status != Status.NOT_STARTED:
        raise Refused(f"only a finished stage can be restarted; this one is {stage.status}")
    stages = list(execution.stages.all())
    for target in [stage, *_downstream(stages, stage.ref_id)]:
        target.children.all().delete()
        stage_type = stage_type_for(target.type)
        context = {}
        if target is stage:
            details = {
                "restartedBy": user.get_username(),
                "restartTime": int(now().timestamp() * 1000),
                "previousException": target.error or None,
            }
            context = {"restartDetails": details}
        if stage_type:
            context = stage_type.prepare_restart(context)
        target.status = Status.NOT_STARTED
        target.context, target.outputs, target.error = context, {}, ""
        target.start_time = target.end_time = target.wake_at = None
        target.save()
    Execution.objects.filter(id=execution.id).update(
        status=Status.RUNNING, end_time=None, canceled=False, updated_at=now()
    )
    handlers.event(execution, Status.RUNNING, stage, restartedBy=user.get_username())
    messages.send("start_stage", str(stage.id))
    return stage


@transaction.atomic
def stage_update(*, stage: Stage, user, changes: dict[str, Any], may_judge) -> Stage:
    """Gate's PATCH of a stage: a judgment, a manual skip, or skipping the rest of a wait."""
    stage = Stage.objects.select_for_update().get(id=stage.id)
    if stage.status != Status.RUNNING:
        raise Refused(f"the stage is {stage.status}, not waiting for this")
    if stage.wake_at is None:
        raise Refused("the stage is waiting for its synthetic stages; act on those")
    if "judgmentStatus" in changes:
        _judge(stage, user, changes, may_judge)
    elif changes.get("manualSkip") is True:
        stage.context["manualSkip"] = True
        stage.context["skippedBy"] = user.get_username()
    elif changes.get("skipRemainingWait") is True:
        if stage.type not in ("wait", "restrictExecutionDuringTimeWindow"):
            raise Refused("only a wait or an execution window has a remaining wait to skip")
        stage.context["skipRemainingWait"] = True
    else:
        raise Refused("give judgmentStatus, manualSkip: true or skipRemainingWait: true")
    stage.save(update_fields=["context"])
    handlers.wake(stage)
    return stage


def _judge(stage: Stage, user, changes: dict[str, Any], may_judge) -> None:
    if stage.type != "manualJudgment":
        raise Refused(f"{stage.name!r} is not a manual judgment")
    status = changes["judgmentStatus"]
    if status not in ("continue", "stop"):
        raise Refused('judgmentStatus is "continue" or "stop"')
    roles = stage.context.get("selectedStageRoles") or []
    allowed, why = may_judge(user, roles)
    if not allowed:
        raise JudgmentRefused(why)
    choices = [i["value"] for i in stage.context.get("judgmentInputs") or []]
    judgment_input = changes.get("judgmentInput")
    if choices and judgment_input not in (None, "") and judgment_input not in choices:
        raise Refused(f"judgmentInput must be one of {', '.join(choices)}")
    stage.context.update(
        judgmentStatus=status,
        judgmentInput=judgment_input,
        lastModifiedBy=user.get_username(),
        lastModified={"user": user.get_username(), "time": int(now().timestamp() * 1000)},
    )


class JudgmentRefused(Exception):
    """The user may not judge this stage (HTTP 403, with why)."""
