"""Manual server-group operations: each a confirmation page whose POST starts a one-stage
(or, for roll back, two-stage) orchestration, shown live on the execution page.

They live here, not in spinui, because they start executions; spinui's server group page
links to them by URL name. The stages themselves check permissions again when they start.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from pipelines import services
from pipelines.config import InvalidConfig
from pipelines.server_group_forms import ServerGroupForm
from pipelines.stages.server_groups import CloneServerGroup, CreateServerGroup
from providers.dcos import operations as ops
from spinui.audit import audit_record
from spinui.models import Application, ServerGroup
from spinui.permissions import WRITE, get_account_for, get_application_for
from spinui.views import HtmxHttpRequest

ACTIONS = ("resize", "disable", "enable", "destroy", "terminate", "rollback")


def _server_group_for(
    user, name: str, account: str, region: str, server_group: str
) -> tuple[Application, ServerGroup]:
    """The application and the cached server group, if the user may WRITE both the
    application and the account (404 if unseen, 403 if only readable)."""
    application = get_application_for(user, name, WRITE)
    get_account_for(user, account, WRITE)
    row = ServerGroup.objects.filter(
        application=application.name, account_name=account, region_name=region, name=server_group
    ).first()
    if row is None or not row.managed:
        raise Http404(f"No server group {server_group!r} spinui manages in {account}/{region}.")
    return application, row


def _previous(row: ServerGroup) -> ServerGroup | None:
    """The server group of the cluster deployed before this one, in the same region."""
    siblings = ServerGroup.objects.filter(
        account_name=row.account_name,
        region_name=row.region_name,
        cluster=row.cluster,
        managed=True,
    ).newest_first()
    older = False
    for sibling in siblings:
        if older:
            return sibling
        older = sibling.pk == row.pk
    return None


def _explain(action: str, row: ServerGroup, previous: ServerGroup | None) -> str:
    where = f"{row.name} in {row.account_name}/{row.region_name}"
    return {
        "resize": f"Change the number of instances of {where} (now {row.instances}). "
        "A scale only: running tasks keep running.",
        "disable": f"Scale {where} to 0: this STOPS all {row.instances} of its tasks. "
        "spinui remembers the capacity so that enable brings them back.",
        "enable": f"Scale {where} back to the capacity it had when it was disabled.",
        "destroy": f"Delete {where} and all of its tasks from Marathon. This cannot be undone.",
        "terminate": f"Kill one instance of {where}; Marathon starts a replacement unless you "
        "shrink the server group.",
        "rollback": (
            f"Enable {previous.name}, the previous server group of {row.cluster}, and once it is "
            f"up, disable {row.name} (which stops its tasks)."
            if previous
            else f"{row.cluster} has no server group older than {row.name} to roll back to."
        ),
    }[action]


def _job(action: str, row: ServerGroup, post, previous: ServerGroup | None) -> list[dict]:
    base = {
        "credentials": row.account_name,
        "regions": [row.region_name],
        "serverGroupName": row.name,
        "cloudProvider": "dcos",
    }
    if action == "resize":
        desired, _ = ops.desired_instances({"desiredCapacity": post.get("desired", "")})
        if desired is None or post.get("desired", "") == "":
            raise ValueError("Give the number of instances: a whole number, 0 or more.")
        return [{"type": "resizeServerGroup", **base, "capacity": {"desired": desired}}]
    if action in ("disable", "enable", "destroy"):
        return [{"type": f"{action}ServerGroup", **base}]
    if action == "terminate":
        task = post.get("instance", "")
        if not task:
            raise ValueError("Choose the instance to terminate.")
        return [
            {
                "type": "terminateInstances",
                "credentials": row.account_name,
                "region": row.region_name,
                "serverGroupName": row.name,
                "instanceIds": [task],
                "shrink": post.get("shrink") == "on",
            }
        ]
    if previous is None:
        raise ValueError("There is no previous server group to roll back to.")
    return [
        {"type": "enableServerGroup", **base, "serverGroupName": previous.name},
        {"type": "disableServerGroup", **base},
    ]


def _start(request, application: Application, description: str, job: list[dict], target: str):
    execution = services.orchestration_start(
        application=application, description=description, stages=job, user=request.user
    )
    audit_record(
        actor=request.user,
        action=job[-1]["type"] if len(job) == 1 else "rollbackServerGroup",
        target_type="server group",
        target_name=target,
        application=application.name,
        changes={"execution": str(execution.id), "job": job},
    )
    return execution


@login_required
@require_http_methods(["GET", "POST"])
def server_group_action(
    request: HtmxHttpRequest, name: str, account: str, region: str, server_group: str, action: str
) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404(f"No action {action!r}.")
    application, row = _server_group_for(request.user, name, account, region, server_group)
    previous = _previous(row) if action == "rollback" else None
    error = ""
    if request.method == "POST":
        try:
            job = _job(action, row, request.POST, previous)
            label = {"rollback": "Roll back"}.get(action, action.capitalize())
            execution = _start(
                request, application, f"{label} {row.name}", job, f"{account}/{region}/{row.name}"
            )
        except ValueError as problem:
            error = str(problem)
        except InvalidConfig as problem:
            error = "; ".join(f"{e.path}: {e.message}" for e in problem.errors)
        else:
            return redirect("execution_detail", execution_id=execution.id)
    context = {
        "application": application,
        "server_group": row,
        "action": action,
        "explanation": _explain(action, row, previous),
        "previous": previous,
        "instances": row.instance_rows.all() if action == "terminate" else [],
        "error": error,
        "desired": request.POST.get("desired", row.instances),
    }
    return render(
        request, "pipelines/server_group_action.html", context, status=400 if error else 200
    )


# Create (and clone, which opens the form prefilled)


def _clone_initial(user, application: Application, source: str) -> dict[str, Any]:
    account, _, rest = source.partition("/")
    region, _, name = rest.partition("/")
    _, row = _server_group_for(user, application.name, account, region, name)
    return ServerGroupForm.initial_from(
        ops.description_from(row.definition), account=f"{account}/{region}", row=row
    )


@login_required
@require_http_methods(["GET", "POST"])
def server_group_create(request: HtmxHttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name, WRITE)
    source = request.GET.get("clone", "")
    initial = _clone_initial(request.user, application, source) if source else {}
    data = request.POST if request.method == "POST" else None
    form = ServerGroupForm(data, initial=initial, user=request.user, application=application)
    preview = form.preview() if data is not None else form.preview_initial()
    if request.method == "POST" and request.POST.get("submit") == "create" and form.is_valid():
        description = form.description()
        stage = {
            "type": "createServerGroup",
            "application": application.name,
            "cloudProvider": "dcos",
            **form.where(),
            **description,
        }
        if source:
            # The cache hides credential-like env values; the clone stage reads them from
            # Marathon, so a value left hidden in the form is copied, not replaced by dots.
            account, region, server_group = (source.split("/", 2) + ["", ""])[:3]
            stage["type"] = "cloneServerGroup"
            stage["source"] = {
                "account": account,
                "region": region,
                "serverGroupName": server_group,
            }
        stage_type = CloneServerGroup() if source else CreateServerGroup()
        job = [stage]
        errors = stage_type.validate(stage, "")
        for problem in errors:
            form.add_error(None, f"{problem.path}: {problem.message}")
        if not errors:
            execution = _start(
                request,
                application,
                f"{'Clone' if source else 'Create'} server group {preview['name']}",
                job,
                f"{form.cleaned_data['placement']}/{preview['name']}",
            )
            return redirect("execution_detail", execution_id=execution.id)
    context = {
        "application": application,
        "form": form,
        "preview": preview,
        "preview_json": json.dumps(preview.get("definition"), indent=2)
        if preview.get("definition")
        else "",
        "cancel_url": reverse("application_clusters", args=[application.name]),
        "cloning": source,
    }
    template = "pipelines/server_group_create.html"
    if request.htmx and request.POST.get("submit") != "create":
        template += "#preview"
    return render(request, template, context)
