"""Executions in Orca's JSON shape: what the API returns and what expressions see."""

from typing import Any

from pipelines.engine.clock import epoch_ms
from pipelines.models import Execution, Stage


def stage_json(stage: Stage) -> dict[str, Any]:
    return {
        "id": str(stage.id),
        "refId": stage.ref_id,
        "type": stage.type,
        "name": stage.name,
        "status": stage.status,
        "context": stage.context,
        "outputs": stage.outputs,
        "startTime": epoch_ms(stage.start_time),
        "endTime": epoch_ms(stage.end_time),
        "requisiteStageRefIds": stage.requisite_ref_ids,
        "parentStageId": str(stage.parent_id) if stage.parent_id else None,
        "syntheticStageOwner": stage.synthetic_owner or None,
        "tasks": [
            {
                "id": "1",
                "name": stage.type,
                "status": stage.status,
                "startTime": epoch_ms(stage.start_time),
                "endTime": epoch_ms(stage.end_time),
            }
        ],
    }


def execution_json(execution: Execution, stages: list[Stage] | None = None) -> dict[str, Any]:
    stages = list(execution.stages.all()) if stages is None else stages
    config = execution.config
    return {
        "id": str(execution.id),
        "type": execution.type,
        "application": execution.application.name,
        "name": execution.name,
        "status": execution.status,
        "buildTime": epoch_ms(execution.build_time),
        "startTime": epoch_ms(execution.start_time),
        "endTime": epoch_ms(execution.end_time),
        "canceled": execution.canceled,
        "canceledBy": execution.canceled_by or None,
        "cancellationReason": execution.cancellation_reason or None,
        "paused": {
            "pauseTime": epoch_ms(execution.paused_at),
            "pausedMs": execution.paused_ms,
        },
        "trigger": execution.trigger,
        "authentication": {"user": execution.run_as},
        "pipelineConfigId": execution.pipeline_id,
        "limitConcurrent": bool(config.get("limitConcurrent", False)),
        "keepWaitingPipelines": bool(config.get("keepWaitingPipelines", False)),
        "stages": [stage_json(stage) for stage in stages],
    }


def expression_root(execution: Execution, stage_ref: str | None = None) -> dict[str, Any]:
    """#root for trying an expression on a stored execution: a stage's own scope when one is
    named, else the whole execution, as Orca's evaluateExpression endpoint does."""
    from pipelines.expressions import stage_scope

    exec_json = execution_json(execution)
    if stage_ref is not None:
        stage = next((s for s in exec_json["stages"] if s["refId"] == stage_ref), None)
        if stage is None:
            raise LookupError(f"execution {execution.id} has no stage with refId {stage_ref!r}")
        return stage_scope(stage, exec_json)
    parameters = execution.trigger.get("parameters", {})
    return {**exec_json, "execution": exec_json, "parameters": parameters}
