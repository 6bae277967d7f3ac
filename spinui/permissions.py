"""Who may do what: per-object READ/WRITE/EXECUTE through django-guardian, granted to roles.

READ is also satisfied by any stronger level: whoever may change or run an application
can see it. Superusers may do everything.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from guardian.shortcuts import get_groups_with_perms, get_objects_for_user

from spinui.models import Account, Application

READ, WRITE, EXECUTE = "read", "write", "execute"
LEVELS: dict[type[models.Model], tuple[str, ...]] = {
    Application: (READ, WRITE, EXECUTE),
    Account: (READ, WRITE),
}

User = AbstractBaseUser | AnonymousUser


def codename(level: str, model: type[models.Model]) -> str:
    return f"{level}_{model._meta.model_name}"


def _perms(levels: tuple[str, ...], model: type[models.Model]) -> list[str]:
    return [f"spinui.{codename(level, model)}" for level in levels]


def user_can(user: User, level: str, obj: models.Model) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    model = type(obj)
    levels = LEVELS[model] if level == READ else (level,)
    return any(user.has_perm(perm, obj) for perm in _perms(levels, model))


def visible(user: User, model: type[models.Model]) -> models.QuerySet:
    """Every object of MODEL that the user may READ."""
    if not user.is_active:
        return model.objects.none()
    return get_objects_for_user(
        user,
        _perms(LEVELS[model], model),
        klass=model,
        any_perm=True,
        with_superuser=True,
        accept_global_perms=False,
    )


def _get_for(user: User, model: type[models.Model], name: str, level: str) -> models.Model:
    """The object, if the user may READ it (else 404: its existence is not revealed) and
    holds LEVEL on it (else 403)."""
    obj = model.objects.filter(name=name).first()
    if obj is None or not user_can(user, READ, obj):
        raise Http404(f"No {model._meta.verbose_name} named {name!r}.")
    if level != READ and not user_can(user, level, obj):
        raise PermissionDenied(
            f"You need {level.upper()} permission on {model._meta.verbose_name} {name!r}."
        )
    return obj


def get_application_for(user: User, name: str, level: str = READ) -> Application:
    return _get_for(user, Application, name, level)


def get_account_for(user: User, name: str, level: str = READ) -> Account:
    return _get_for(user, Account, name, level)


def grants_of(obj: models.Model) -> dict[Group, set[str]]:
    """Each role holding a permission on OBJ, with its levels."""
    prefix_len = len(f"_{type(obj)._meta.model_name}")
    return {
        group: {perm[:-prefix_len] for perm in perms}
        for group, perms in get_groups_with_perms(obj, attach_perms=True).items()
    }
