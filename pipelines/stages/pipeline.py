"""Pipeline stage: run another pipeline with parameters; wait for it or not. Its status
becomes this stage's. A pipeline that would end up running itself is refused."""

from typing import Any

from pipelines.stages import ConfigError, Field, Outcome, StageRun, StageType, register
from pipelines.status import COMPLETE, Status

POLL_SECONDS = 300.0  # the child's end wakes this stage; the poll is only a safety net


def _child_of(stage_id: str):
    from pipelines.models import Execution

    return Execution.objects.filter(trigger__parentPipelineStageId=stage_id).first()


def _ancestors(execution: dict[str, Any]) -> list[str]:
    """Pipeline config ids of this execution and every execution that started it."""
    ids, trigger = [execution.get("pipelineConfigId")], execution.get("trigger") or {}
    while isinstance(trigger.get("parentExecution"), dict):
        parent = trigger["parentExecution"]
        ids.append(parent.get("pipelineConfigId"))
        trigger = parent.get("trigger") or {}
    return [i for i in ids if i]


@register
class PipelineStage(StageType):
    type = "pipeline"
    label = "Pipeline"
    description = "Runs another pipeline and, by default, waits for it."
    fields = (
        Field("application", "Application", required=True),
        Field("pipeline", "Pipeline (id)", required=True),
        Field("pipelineParameters", "Parameters", "json"),
        Field("waitForCompletion", "Wait for completion", "boolean"),
    )

    def validate(self, config: dict[str, Any], path: str) -> list[ConfigError]:
        return [
            ConfigError(f"{path}/{key}", "is required")
            for key in ("application", "pipeline")
            if not isinstance(config.get(key), str) or not config[key]
        ]

    def run(self, run: StageRun) -> Outcome:
        child = _child_of(run.stage_id)
        if child is None:
            return self._start(run)
        recorded = {"executionId": str(child.id), "executionName": child.name}
        if not run.context.get("waitForCompletion", True):
            return Outcome(Status.SUCCEEDED, context=recorded)
        if child.status not in COMPLETE:
            return Outcome(Status.RUNNING, context=recorded, delay=POLL_SECONDS)
        if child.status == Status.SUCCEEDED:
            return Outcome(Status.SUCCEEDED, context=recorded)
        return Outcome(
            Status.CANCELED if child.status == Status.CANCELED else Status.TERMINAL,
            context=recorded,
            error=f"pipeline {child.name!r} ended {child.status}",
        )

    def _start(self, run: StageRun) -> Outcome:
        from django.contrib.auth import get_user_model

        from pipelines import services
        from pipelines.config import InvalidConfig
        from pipelines.models import Pipeline
        from spinui.permissions import EXECUTE, user_can

        context = run.context
        target = (
            Pipeline.objects.select_related("application")
            .filter(id=context["pipeline"], application__name=context["application"])
            .first()
        )
        if target is None:
            return Outcome(
                Status.TERMINAL,
                error=f"{context['application']} has no pipeline {context['pipeline']!r}",
            )
        if target.id in _ancestors(run.execution):
            return Outcome(
                Status.TERMINAL,
                error=f"pipeline {target.name!r} would run itself in a loop; refused",
            )
        user = get_user_model().objects.filter(username=run.run_as).first()
        if user is None or not user_can(user, EXECUTE, target.application):
            return Outcome(
                Status.TERMINAL,
                error=f"{run.run_as} may not run pipelines of "
                f"{target.application.name} (EXECUTE needed)",
            )
        trigger = {
            "type": "pipeline",
            "user": run.run_as,
            "parentPipelineStageId": run.stage_id,
            "parentExecution": {
                key: run.execution.get(key)
                for key in ("id", "name", "application", "pipelineConfigId", "trigger", "status")
            },
            "parameters": context.get("pipelineParameters") or {},
        }
        try:
            child = services.execution_start(
                pipeline=target, trigger=trigger, user=user, run_as=run.run_as
            )
        except (InvalidConfig, services.Refused) as error:
            return Outcome(Status.TERMINAL, error=f"could not start {target.name!r}: {error}")
        return Outcome(
            Status.RUNNING,
            context={"executionId": str(child.id), "executionName": child.name},
            delay=0,
        )

    def cancel(self, run: StageRun) -> dict[str, Any]:
        from pipelines import services

        child = _child_of(run.stage_id)
        if child is not None and child.status not in COMPLETE:
            services.execution_cancel(execution=child, user=None, reason="its parent was canceled")
        return {}
