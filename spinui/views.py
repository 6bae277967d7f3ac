from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from spinui import services
from spinui.forms import (
    AccountForm,
    ApplicationForm,
    DockerRegistryForm,
    RegionForm,
    RoleForm,
    UserForm,
)
from spinui.models import Account, Application, AuditEntry, DockerRegistry, Region
from spinui.permissions import (
    LEVELS,
    WRITE,
    get_account_for,
    get_application_for,
    grants_of,
    user_can,
    visible,
)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def admin_required(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied("Only admins may manage this.")
        return view(request, *args, **kwargs)

    return guarded


def _saved(request: HttpRequest, form: ModelForm, save: Callable[[], object]) -> bool:
    """Run a service on a posted, valid form; what the service refuses lands on the form."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save()
    except ValidationError as error:
        form.add_error(None, error.messages)
        return False
    return True


def _form_page(request: HttpRequest, form: ModelForm, title: str, **context) -> HttpResponse:
    return render(request, "spinui/form.html", {"form": form, "title": title, **context})


def _delete_page(
    request: HttpRequest, obj, delete: Callable[[], None], done_url: str, what: str
) -> HttpResponse:
    if request.method == "POST":
        try:
            delete()
        except services.InUse as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Deleted {what} {obj}.")
            return redirect(done_url)
    return render(request, "spinui/confirm_delete.html", {"object": obj, "what": what})


# Applications


@login_required
def application_list(request: HtmxHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    applications = visible(request.user, Application).search(query)
    context = {
        "applications": applications,
        "query": query,
        "can_create": request.user.has_perm("spinui.add_application"),
    }
    template = "spinui/application_list.html"
    if request.htmx:
        template += "#application-rows"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def application_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("spinui.add_application"):
        raise PermissionDenied("You may not create applications; ask an admin for a role.")
    form = ApplicationForm(request.POST or None)
    if _saved(
        request,
        form,
        lambda: services.application_create(actor=request.user, application=form.instance),
    ):
        messages.success(request, f"Created application {form.instance.name}.")
        return redirect("application_detail", name=form.instance.name)
    return _form_page(request, form, "New application", cancel_url=reverse("application_list"))


@login_required
def application_detail(request: HttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name)
    context = {
        "application": application,
        "can_write": user_can(request.user, WRITE, application),
        "recent": AuditEntry.objects.filter(application=application.name)[:10],
    }
    return render(request, "spinui/application_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def application_edit(request: HttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name, WRITE)
    form = ApplicationForm(request.POST or None, instance=application)
    if _saved(
        request,
        form,
        lambda: services.application_update(actor=request.user, application=form.instance),
    ):
        messages.success(request, f"Saved application {name}.")
        return redirect("application_detail", name=name)
    return _form_page(
        request,
        form,
        f"Edit {name}",
        application=application,
        cancel_url=reverse("application_detail", args=[name]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_delete(request: HttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name, WRITE)
    return _delete_page(
        request,
        application,
        lambda: services.application_delete(actor=request.user, application=application),
        reverse("application_list"),
        "application",
    )


@login_required
def application_audit(request: HttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name)
    entries = AuditEntry.objects.filter(application=application.name)
    return _audit_page(request, entries, application=application)


def _audit_page(request: HttpRequest, entries: QuerySet, **context) -> HttpResponse:
    page = Paginator(entries.select_related("actor"), 50).get_page(request.GET.get("page"))
    return render(request, "spinui/audit.html", {"page": page, **context})


# Permissions


def _grants_page(request: HttpRequest, obj: Application | Account, **context) -> HttpResponse:
    levels = LEVELS[type(obj)]
    roles = Group.objects.order_by("name")
    if request.method == "POST":
        checked = set(request.POST.getlist("grant"))
        grants = {
            role: {level for level in levels if f"{role.pk}:{level}" in checked} for role in roles
        }
        services.grants_set(actor=request.user, obj=obj, grants=grants)
        messages.success(request, f"Saved permissions of {obj}.")
        return redirect(request.path)
    current = grants_of(obj)
    rows = [
        (role, [(level, level in current.get(role, set())) for level in levels]) for role in roles
    ]
    return render(
        request,
        "spinui/permissions.html",
        {"object": obj, "levels": levels, "rows": rows, **context},
    )


@admin_required
@require_http_methods(["GET", "POST"])
def application_permissions(request: HttpRequest, name: str) -> HttpResponse:
    application = get_application_for(request.user, name)
    return _grants_page(request, application, application=application)


@admin_required
@require_http_methods(["GET", "POST"])
def account_permissions(request: HttpRequest, name: str) -> HttpResponse:
    account = get_account_for(request.user, name)
    return _grants_page(request, account, account=account)


# Accounts and regions


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = visible(request.user, Account).prefetch_related("regions")
    return render(request, "spinui/account_list.html", {"accounts": accounts})


@admin_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None)
    if _saved(
        request, form, lambda: services.account_create(actor=request.user, account=form.instance)
    ):
        messages.success(request, f"Created account {form.instance.name}.")
        return redirect("account_detail", name=form.instance.name)
    return _form_page(request, form, "New account", cancel_url=reverse("account_list"))


@login_required
@require_http_methods(["GET", "POST"])
def account_detail(request: HttpRequest, name: str) -> HttpResponse:
    account = get_account_for(request.user, name)
    form = None
    if request.user.is_superuser:
        form = AccountForm(request.POST or None, instance=account)
        if _saved(
            request, form, lambda: services.account_update(actor=request.user, account=account)
        ):
            messages.success(request, f"Saved account {name}.")
            return redirect("account_detail", name=name)
    elif request.method == "POST":
        raise PermissionDenied("Only admins may change accounts.")
    context = {"account": account, "form": form, "regions": account.regions.all()}
    return render(request, "spinui/account_detail.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest, name: str) -> HttpResponse:
    account = get_object_or_404(Account, name=name)
    return _delete_page(
        request,
        account,
        lambda: services.account_delete(actor=request.user, account=account),
        reverse("account_list"),
        "account",
    )


@admin_required
@require_http_methods(["GET", "POST"])
def region_edit(request: HttpRequest, name: str, region: str | None = None) -> HttpResponse:
    account = get_object_or_404(Account, name=name)
    instance = get_object_or_404(Region, account=account, name=region) if region else None
    form = RegionForm(request.POST or None, instance=instance, account=account)
    save = services.region_update if instance else services.region_create
    if _saved(request, form, lambda: save(actor=request.user, region=form.instance)):
        messages.success(request, f"Saved region {form.instance}.")
        return redirect("account_detail", name=name)
    title = f"Region {instance}" if instance else f"New region of {name}"
    return _form_page(
        request, form, title, account=account, cancel_url=reverse("account_detail", args=[name])
    )


@admin_required
@require_http_methods(["GET", "POST"])
def region_delete(request: HttpRequest, name: str, region: str) -> HttpResponse:
    instance = get_object_or_404(Region, account__name=name, name=region)
    return _delete_page(
        request,
        instance,
        lambda: services.region_delete(actor=request.user, region=instance),
        reverse("account_detail", args=[name]),
        "region",
    )


# Docker registries


@admin_required
def registry_list(request: HttpRequest) -> HttpResponse:
    registries = DockerRegistry.objects.all()
    return render(request, "spinui/registry_list.html", {"registries": registries})


@admin_required
@require_http_methods(["GET", "POST"])
def registry_edit(request: HttpRequest, name: str | None = None) -> HttpResponse:
    instance = get_object_or_404(DockerRegistry, name=name) if name else None
    form = DockerRegistryForm(request.POST or None, instance=instance)
    save = services.registry_update if instance else services.registry_create
    if _saved(request, form, lambda: save(actor=request.user, registry=form.instance)):
        messages.success(request, f"Saved docker registry {form.instance}.")
        return redirect("registry_list")
    title = f"Docker registry {instance}" if instance else "New docker registry"
    return _form_page(request, form, title, cancel_url=reverse("registry_list"))


@admin_required
@require_http_methods(["GET", "POST"])
def registry_delete(request: HttpRequest, name: str) -> HttpResponse:
    registry = get_object_or_404(DockerRegistry, name=name)
    return _delete_page(
        request,
        registry,
        lambda: services.registry_delete(actor=request.user, registry=registry),
        reverse("registry_list"),
        "docker registry",
    )


# Admin: roles, users, audit


@admin_required
def role_list(request: HttpRequest) -> HttpResponse:
    roles = Group.objects.order_by("name").prefetch_related("user_set", "permissions")
    users = User.objects.order_by("username").prefetch_related("groups")
    return render(request, "spinui/role_list.html", {"roles": roles, "users": users})


@admin_required
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, role_id: int | None = None) -> HttpResponse:
    role = get_object_or_404(Group, pk=role_id) if role_id else None
    form = RoleForm(request.POST or None, instance=role)
    if _saved(
        request,
        form,
        lambda: services.role_save(
            actor=request.user,
            role=form.instance,
            members=form.cleaned_data["members"],
            can_create_applications=form.cleaned_data["can_create_applications"],
        ),
    ):
        messages.success(request, f"Saved role {form.instance.name}.")
        return redirect("role_list")
    title = f"Role {role.name}" if role else "New role"
    return _form_page(request, form, title, cancel_url=reverse("role_list"))


@admin_required
@require_POST
def role_delete(request: HttpRequest, role_id: int) -> HttpResponse:
    role = get_object_or_404(Group, pk=role_id)
    services.role_delete(actor=request.user, role=role)
    messages.success(request, f"Deleted role {role.name}.")
    return redirect("role_list")


@admin_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id) if user_id else None
    form = UserForm(request.POST or None, instance=user)
    if _saved(
        request,
        form,
        lambda: services.user_save(
            actor=request.user, user=form.instance, password=form.cleaned_data["password"]
        ),
    ):
        messages.success(request, f"Saved user {form.instance.username}.")
        return redirect("role_list")
    title = f"User {user.username}" if user else "New user"
    return _form_page(request, form, title, cancel_url=reverse("role_list"))


@admin_required
def audit_list(request: HttpRequest) -> HttpResponse:
    return _audit_page(request, AuditEntry.objects.all())
