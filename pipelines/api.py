"""Pipelines, executions and tasks in the JSON API, on Spinnaker Gate's paths and shapes.

Reading needs READ on the application, running, cancelling and judging EXECUTE, saving WRITE.
"""

from typing import Any
from uuid import UUID

from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404

from pipelines import services
from pipelines.config import InvalidConfig
from pipelines.engine.serialize import execution_json, expression_root
from pipelines.expressions import Environment, ExpressionError, evaluate_template
from pipelines.judging import may_judge
from pipelines.models import Execution, Pipeline, Stage
from pipelines.status import Status
from spinui.api import ApiError, ApiRequest, api_view, json_body
from spinui.permissions import EXECUTE, READ, WRITE, get_application_for, user_can


def _invalid(error: InvalidConfig) -> ApiError:
    return ApiError(
        422,
        "invalid",
        "The pipeline has invalid values; see details for each path.",
        error.details(),
    )


def _refused(error: Exception) -> ApiError:
    return ApiError(409, "conflict", str(error))


def _execution_for(user, execution_id: UUID, level: str) -> Execution:
    execution = (
        Execution.objects.select_related("application", "pipeline")
        .prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("start_time", "ref_id"))
        )
        .filter(id=execution_id)
        .first()
    )
    if execution is None or not user_can(user, READ, execution.application):
        raise Http404(f"No execution {execution_id}.")
    get_application_for(user, execution.application.name, level)
    return execution


def _stage_of(execution: Execution, stage_id: UUID) -> Stage:
    stage = execution.stages.filter(id=stage_id).first()
    if stage is None:
        raise Http404(f"Execution {execution.id} has no stage {stage_id}.")
    return stage


def _executed(execution: Execution) -> JsonResponse:
    execution.refresh_from_db()
    return JsonResponse(execution_json(execution))


# Pipeline configs


@api_view("POST")
def pipeline_save(request: ApiRequest) -> JsonResponse:
    config = json_body(request)
    name = config.get("application")
    if not isinstance(name, str) or not name:
        raise ApiError(
            422,
            "invalid",
            "Say which application the pipeline belongs to.",
            [{"path": "/application", "errors": ["is required"]}],
        )
    application = get_application_for(request.user, name, WRITE)
    try:
        pipeline = services.pipeline_save(
            actor=request.user, application=application, config=config
        )
    except InvalidConfig as error:
        raise _invalid(error) from None
    return JsonResponse(pipeline.config, status=200)


@api_view("GET")
def pipeline_configs(request: ApiRequest, application: str) -> JsonResponse:
    found = get_application_for(request.user, application, READ)
    configs = [p.config for p in Pipeline.objects.filter(application=found).order_by("name")]
    return JsonResponse(configs, safe=False)


@api_view("GET")
def pipeline_history(request: ApiRequest, pipeline_id: str) -> JsonResponse:
    """Gate's history: every revision's config, newest first, with who saved it and when."""
    found = Pipeline.objects.select_related("application").filter(id=pipeline_id).first()
    if found is None or not user_can(request.user, READ, found.application):
        raise Http404(f"No pipeline {pipeline_id}.")
    history = [
        {
            **r.config,
            "updateTs": str(int(r.created_at.timestamp() * 1000)),
            "lastModifiedBy": r.created_by,
            "revision": r.number,
        }
        for r in found.revisions.all()
    ]
    return JsonResponse(history, safe=False)


@api_view("POST", "DELETE")
def pipeline(request: ApiRequest, application: str, name: str) -> HttpResponse:
    level = EXECUTE if request.method == "POST" else WRITE
    found = get_application_for(request.user, application, level)
    saved = get_object_or_404(Pipeline, application=found, name=name)
    if request.method == "DELETE":
        services.pipeline_delete(actor=request.user, pipeline=saved)
        return HttpResponse(status=204)
    trigger = json_body(request) if request.body else {}
    try:
        execution = services.execution_start(pipeline=saved, trigger=trigger, user=request.user)
    except InvalidConfig as error:
        raise _invalid(error) from None
    except services.Refused as error:
        raise _refused(error) from None
    return JsonResponse({"ref": f"/pipelines/{execution.id}"}, status=202)


# Executions


@api_view("GET")
def execution(request: ApiRequest, execution_id: UUID) -> JsonResponse:
    return JsonResponse(execution_json(_execution_for(request.user, execution_id, READ)))


@api_view("GET")
def executions(request: ApiRequest, application: str) -> JsonResponse:
    found = get_application_for(request.user, application, READ)
    try:
        limit = min(int(request.GET.get("limit", "25")), 100)
    except ValueError:
        raise ApiError(400, "bad_request", "limit must be a whole number.") from None
    statuses = [s for s in request.GET.get("statuses", "").split(",") if s]
    unknown = [s for s in statuses if s not in Status.values]
    if unknown:
        raise ApiError(400, "bad_request", f"unknown statuses: {', '.join(unknown)}")
    found_executions = Execution.objects.filter(application=found, type=Execution.PIPELINE)
    if statuses:
        found_executions = found_executions.filter(status__in=statuses)
    found_executions = found_executions.select_related("application").prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("start_time", "ref_id"))
    )[:limit]
    return JsonResponse([execution_json(e) for e in found_executions], safe=False)


def _control(request: ApiRequest, execution_id: UUID, action) -> JsonResponse:
    found = _execution_for(request.user, execution_id, EXECUTE)
    try:
        action(found)
    except services.Refused as error:
        raise _refused(error) from None
    return _executed(found)


@api_view("PUT")
def execution_cancel(request: ApiRequest, execution_id: UUID) -> JsonResponse:
    reason = request.GET.get("reason", "")
    return _control(
        request,
        execution_id,
        lambda e: services.execution_cancel(execution=e, user=request.user, reason=reason),
    )


@api_view("PUT")
def execution_pause(request: ApiRequest, execution_id: UUID) -> JsonResponse:
    return _control(
        request, execution_id, lambda e: services.execution_pause(execution=e, user=request.user)
    )


@api_view("PUT")
def execution_resume(request: ApiRequest, execution_id: UUID) -> JsonResponse:
    return _control(
        request, execution_id, lambda e: services.execution_resume(execution=e, user=request.user)
    )


@api_view("PUT")
def stage_restart(request: ApiRequest, execution_id: UUID, stage_id: UUID) -> JsonResponse:
    return _control(
        request,
        execution_id,
        lambda e: services.stage_restart(stage=_stage_of(e, stage_id), user=request.user),
    )


@api_view("PATCH")
def stage_update(request: ApiRequest, execution_id: UUID, stage_id: UUID) -> JsonResponse:
    found = _execution_for(request.user, execution_id, EXECUTE)
    changes = json_body(request)
    try:
        services.stage_update(
            stage=_stage_of(found, stage_id),
            user=request.user,
            changes=changes,
            may_judge=may_judge,
        )
    except services.JudgmentRefused as error:
        raise ApiError(403, "forbidden", str(error)) from None
    except services.Refused as error:
        raise _refused(error) from None
    return _executed(found)


@api_view("GET")
def evaluate_expression(request: ApiRequest, execution_id: UUID) -> JsonResponse:
    """Orca's evaluateExpression: against the whole stored execution as #root."""
    found = _execution_for(request.user, execution_id, READ)
    expression = request.GET.get("expression")
    if not expression:
        raise ApiError(400, "bad_request", "Give the expression as ?expression=${…}.")
    result: dict[str, Any] = {"expression": expression}
    root = expression_root(found)
    try:
        result["result"] = evaluate_template(
            expression, root, environment=Environment(user=request.user.get_username())
        )
    except ExpressionError as error:
        result["detail"] = {"message": error.message, "column": error.column}
    return JsonResponse(result)


# Orchestrations (Gate's "tasks")


@api_view("GET", "POST")
def tasks(request: ApiRequest, application: str) -> JsonResponse:
    if request.method == "GET":
        readable = get_application_for(request.user, application, READ)
        recent = (
            Execution.objects.filter(application=readable, type=Execution.ORCHESTRATION)
            .select_related("application")
            .prefetch_related(
                Prefetch("stages", queryset=Stage.objects.order_by("start_time", "ref_id"))
            )[:25]
        )
        return JsonResponse([execution_json(e) for e in recent], safe=False)
    found = get_application_for(request.user, application, WRITE)
    body = json_body(request)
    job = body.get("job")
    if not isinstance(job, list) or not job or not all(isinstance(s, dict) for s in job):
        raise ApiError(
            422,
            "invalid",
            "Give the operations to run as job: [{type, …}].",
            [{"path": "/job", "errors": ["give a list of operations"]}],
        )
    try:
        started = services.orchestration_start(
            application=found,
            description=str(body.get("description", "")),
            stages=job,
            user=request.user,
        )
    except InvalidConfig as error:
        raise _invalid(error) from None
    return JsonResponse({"ref": f"/tasks/{started.id}"}, status=202)


@api_view("GET")
def task(request: ApiRequest, execution_id: UUID) -> JsonResponse:
    return JsonResponse(execution_json(_execution_for(request.user, execution_id, READ)))
