"""Pages: an application's pipelines with their recent executions, running one, editing the
JSON with its revisions, an execution live, and the expression playground."""

import difflib
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from pipelines import services
from pipelines.config import InvalidConfig, validate_pipeline
from pipelines.engine.serialize import expression_root
from pipelines.expressions import Environment, ExpressionError, evaluate_template
from pipelines.graph import layout
from pipelines.judging import may_judge
from pipelines.models import Execution, Pipeline, PipelineRevision, Stage
from pipelines.server_groups import OperationError
from pipelines.stages.run_job import OUTPUT_BYTES, job_output
from pipelines.status import COMPLETE, HALT
from providers.dcos.transport import DcosError
from spinui.permissions import EXECUTE, READ, WRITE, get_application_for, user_can
from spinui.views import HtmxHttpRequest

RECENT_PER_PIPELINE = 6
RECENT_TASKS = 10


def _stages_prefetch() -> Prefetch:
    return Prefetch("stages", queryset=Stage.objects.order_by("start_time", "ref_id"))


def _execution_for(user, execution_id, level: str = READ) -> Execution:
    execution = (
        Execution.objects.select_related("application", "pipeline")
        .prefetch_related(_stages_prefetch())
        .filter(id=execution_id)
        .first()
    )
    if execution is None or not user_can(user, READ, execution.application):
        raise Http404("No such execution.")
    get_application_for(user, execution.application.name, level)
    return execution


@login_required
def pipeline_list(request: HtmxHttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name)
    pipelines = list(Pipeline.objects.filter(application=application).order_by("name"))
    recent = (
        Execution.objects.filter(application=application, type=Execution.PIPELINE)
        .select_related("pipeline")
        .prefetch_related(_stages_prefetch())
        .order_by("-build_time")[: RECENT_PER_PIPELINE * max(len(pipelines), 1) * 2]
    )
    by_pipeline: dict[str, list[Execution]] = {}
    for execution in recent:
        rows = by_pipeline.setdefault(execution.pipeline_id, [])
        if len(rows) < RECENT_PER_PIPELINE:
            rows.append(execution)
    rows = [(p, by_pipeline.get(p.id, [])) for p in pipelines]
    # Manual operations (orchestrations, Spinnaker's "tasks") have their own history.
    tasks = list(
        Execution.objects.filter(application=application, type=Execution.ORCHESTRATION)
        .prefetch_related(_stages_prefetch())
        .order_by("-build_time")[:RECENT_TASKS]
    )
    running = any(e.status not in COMPLETE for _, es in rows for e in es) or any(
        e.status not in COMPLETE for e in tasks
    )
    context = {
        "application": application,
        "rows": rows,
        "tasks": tasks,
        "running": running,
        "can_execute": user_can(request.user, EXECUTE, application),
        "can_write": user_can(request.user, WRITE, application),
    }
    if not request.htmx:
        return render(request, "pipelines/list.html", context)
    response = render(request, "pipelines/list.html#rows", context)
    return response if running else HttpResponseStopPolling(response.content)


def run_form(config: dict[str, Any], data=None) -> forms.Form:
    form = forms.Form(data)
    for parameter in config.get("parameterConfig") or []:
        options = [str(o["value"]) for o in parameter.get("options") or []]
        common = {
            "label": parameter.get("label") or parameter["name"],
            "required": bool(parameter.get("required")),
            "initial": parameter.get("default"),
            "help_text": parameter.get("description", ""),
        }
        if parameter.get("hasOptions") and options:
            choices = [("", "—")] * (not common["required"]) + [(o, o) for o in options]
            form.fields[parameter["name"]] = forms.ChoiceField(choices=choices, **common)
        else:
            form.fields[parameter["name"]] = forms.CharField(**common)
    return form


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_run(request: HttpRequest, name: str, pipeline: str) -> HttpResponse:
    application = get_application_for(request.user, name, EXECUTE)
    found = get_object_or_404(Pipeline, application=application, name=pipeline)
    form = run_form(found.config, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            execution = services.execution_start(
                pipeline=found, trigger={"parameters": form.cleaned_data}, user=request.user
            )
        except InvalidConfig as error:
            for detail in error.details():
                form.add_error(None, f"{detail['path']}: {'; '.join(detail['errors'])}")
        except services.Refused as error:
            form.add_error(None, str(error))
        else:
            return redirect("execution_detail", execution_id=execution.id)
    context = {"application": application, "pipeline": found, "form": form}
    return render(request, "pipelines/run.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_edit(request: HttpRequest, name: str, pipeline: str | None = None) -> HttpResponse:
    application = get_application_for(
        request.user, name, WRITE if request.method == "POST" else READ
    )
    found = (
        get_object_or_404(Pipeline, application=application, name=pipeline) if pipeline else None
    )
    text = json.dumps(found.config if found else {"name": "", "stages": []}, indent=2)
    errors: list[dict] = []
    if request.method == "POST":
        text = request.POST.get("config", "")
        try:
            config = json.loads(text)
        except ValueError as error:
            errors = [{"path": "", "errors": [f"not JSON: {error}"]}]
        else:
            if found and isinstance(config, dict):
                config.setdefault("id", found.id)
            try:
                saved = services.pipeline_save(
                    actor=request.user, application=application, config=config
                )
            except InvalidConfig as error:
                errors = error.details()
            else:
                messages.success(request, f"Saved pipeline {saved.name}.")
                return redirect("pipeline_edit", name=name, pipeline=saved.name)
    context = {
        "application": application,
        "pipeline": found,
        "unknown_types": validate_pipeline(found.config, application.name)[1] if found else [],
        "text": text,
        "errors": errors,
        "revisions": found.revisions.all()[:30] if found else [],
        "diff": _diff(found, request.GET.get("diff")) if found else None,
        "can_write": user_can(request.user, WRITE, application),
    }
    return render(request, "pipelines/edit.html", context)


def _diff(pipeline: Pipeline, pair: str | None) -> str | None:
    if not pair:
        return None
    try:
        older, newer = (int(n) for n in pair.split(",", 1))
    except ValueError:
        return None
    revisions = {r.number: r for r in pipeline.revisions.filter(number__in=[older, newer])}
    if len(revisions) != 2:
        return None
    lines = [
        json.dumps(revisions[n].config, indent=2, sort_keys=True).splitlines()
        for n in (older, newer)
    ]
    return "\n".join(
        difflib.unified_diff(*lines, f"revision {older}", f"revision {newer}", lineterm="")
    )


@login_required
@require_POST
def revision_restore(request: HttpRequest, name: str, pipeline: str, number: int) -> HttpResponse:
    application = get_application_for(request.user, name, WRITE)
    revision = get_object_or_404(
        PipelineRevision, pipeline__application=application, pipeline__name=pipeline, number=number
    )
    saved = services.revision_restore(actor=request.user, revision=revision)
    messages.success(request, f"Restored revision {number} of {saved.name} as a new revision.")
    return redirect("pipeline_edit", name=name, pipeline=saved.name)


@login_required
@require_POST
def pipeline_delete(request: HttpRequest, name: str, pipeline: str) -> HttpResponse:
    application = get_application_for(request.user, name, WRITE)
    found = get_object_or_404(Pipeline, application=application, name=pipeline)
    services.pipeline_delete(actor=request.user, pipeline=found)
    messages.success(request, f"Deleted pipeline {pipeline}.")
    return redirect("pipeline_list", name=name)


@login_required
def execution_detail(request: HtmxHttpRequest, execution_id) -> HttpResponse:
    execution = _execution_for(request.user, execution_id)
    stages = list(execution.stages.all())
    selected = next((s for s in stages if str(s.id) == request.GET.get("stage")), None)
    if selected is None:
        selected = _worth_showing(stages)
    context = {
        "execution": execution,
        "application": execution.application,
        "graph": layout(stages),
        "selected": selected,
        "selected_json": json.dumps(
            {"context": selected.context, "outputs": selected.outputs}, indent=2
        )
        if selected
        else "",
        "can_execute": user_can(request.user, EXECUTE, execution.application),
        "may_judge": _may_judge_here(request.user, selected),
        "done": execution.status in COMPLETE,
        "window_zone": settings.SPINUI_EXECUTION_WINDOW_TIMEZONE,
    }
    if request.htmx:
        response = render(request, "pipelines/execution.html#body", context)
        return HttpResponseStopPolling(response.content) if context["done"] else response
    return render(request, "pipelines/execution.html", context)


def _worth_showing(stages: list[Stage]) -> Stage | None:
    """A waiting judgment, else a running stage, else a failed one, else the first."""
    for wanted in (
        lambda s: s.status == "RUNNING" and s.type == "manualJudgment",
        lambda s: s.status == "RUNNING",
        lambda s: s.status in HALT,
        lambda s: True,
    ):
        found = [s for s in stages if wanted(s)]
        if found:
            return found[0]
    return None


def _may_judge_here(user, stage: Stage | None) -> tuple[bool, str]:
    if stage is None or stage.type != "manualJudgment" or stage.status != "RUNNING":
        return False, ""
    if not user_can(user, EXECUTE, stage.execution.application):
        return False, "You need EXECUTE on the application to judge."
    return may_judge(user, stage.context.get("selectedStageRoles") or [])


ACTIONS = {
    "cancel": lambda e, s, u, p: services.execution_cancel(
        execution=e, user=u, reason=p.get("reason", "")
    ),
    "pause": lambda e, s, u, p: services.execution_pause(execution=e, user=u),
    "resume": lambda e, s, u, p: services.execution_resume(execution=e, user=u),
    "restart": lambda e, s, u, p: services.stage_restart(stage=s, user=u),
    "skip": lambda e, s, u, p: services.stage_update(
        stage=s, user=u, changes={"manualSkip": True}, may_judge=may_judge
    ),
    "skip-wait": lambda e, s, u, p: services.stage_update(
        stage=s, user=u, changes={"skipRemainingWait": True}, may_judge=may_judge
    ),
    "continue": lambda e, s, u, p: services.stage_update(
        stage=s,
        user=u,
        changes={"judgmentStatus": "continue", "judgmentInput": p.get("judgmentInput")},
        may_judge=may_judge,
    ),
    "stop": lambda e, s, u, p: services.stage_update(
        stage=s,
        user=u,
        changes={"judgmentStatus": "stop", "judgmentInput": p.get("judgmentInput")},
        may_judge=may_judge,
    ),
}


@login_required
@require_POST
def execution_action(request: HttpRequest, execution_id, action: str) -> HttpResponse:
    execution = _execution_for(request.user, execution_id, EXECUTE)
    if action not in ACTIONS:
        raise Http404(f"No action {action!r}.")
    stage = None
    if request.POST.get("stage"):
        stage = execution.stages.filter(id=request.POST["stage"]).first()
        if stage is None:
            raise Http404("No such stage in this execution.")
    try:
        ACTIONS[action](execution, stage, request.user, request.POST)
    except (services.Refused, services.JudgmentRefused) as error:
        messages.error(request, str(error))
    url = reverse("execution_detail", args=[execution.id])
    return redirect(f"{url}?stage={stage.id}" if stage else url)


@login_required
def playground(request: HttpRequest, name: str) -> HttpResponse:
    """Try an expression on a stored execution (optionally in one stage's scope) or on a
    pasted context: the value, or the error at its column, and the names in scope."""
    application = get_application_for(request.user, name)
    executions = Execution.objects.filter(application=application).order_by("-build_time")[:30]
    expression = request.GET.get("expression", "")
    chosen = request.GET.get("execution", "")
    stage_ref = request.GET.get("stage") or None
    pasted = request.GET.get("context", "")
    result: dict[str, Any] = {}
    root: dict[str, Any] = {}
    try:
        if chosen:
            execution = get_object_or_404(Execution, id=chosen, application=application)
            root = expression_root(execution, stage_ref)
        elif pasted.strip():
            root = json.loads(pasted)
            if not isinstance(root, dict):
                raise ValueError("the context must be a JSON object")
    except (LookupError, ValueError) as error:
        result["error"] = str(error)
    if expression and "error" not in result:
        try:
            value = evaluate_template(
                expression, root, environment=Environment(user=request.user.get_username())
            )
            result["value"] = json.dumps(value, indent=2, ensure_ascii=False)
        except ExpressionError as error:
            result["error"] = error.message
            result["column"] = error.column
    context = {
        "application": application,
        "executions": executions,
        "expression": expression,
        "chosen": chosen,
        "stage_ref": stage_ref or "",
        "pasted": pasted,
        "result": result,
        "names": sorted(root),
    }
    return render(request, "pipelines/playground.html", context)


@login_required
def stage_job_output(request: HtmxHttpRequest, execution_id, stage_id) -> HttpResponse:
    """The stdout and stderr of a Run Job stage's task, read from its Mesos sandbox now."""
    execution = _execution_for(request.user, execution_id)
    stage = next((s for s in execution.stages.all() if s.id == stage_id), None)
    if stage is None or stage.type != "runJob":
        raise Http404("No such Run Job stage in this execution.")
    files, problem = {}, ""
    try:
        files = job_output(stage.context)
    except (OperationError, DcosError) as error:
        problem = f"Cannot read the task's sandbox: {error}"
    context = {
        "execution": execution,
        "application": execution.application,
        "stage": stage,
        "files": files,
        "problem": problem,
        "limit_kib": OUTPUT_BYTES // 1024,
        "done": stage.status in COMPLETE,
    }
    if request.htmx:
        response = render(request, "pipelines/job_output.html#files", context)
        return HttpResponseStopPolling(response.content) if context["done"] else response
    return render(request, "pipelines/job_output.html", context)
