"""Every write of the house goes through here: validated, atomic, audited."""

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import models, transaction
from django.db.models import ProtectedError
from guardian.shortcuts import assign_perm, remove_perm

from spinui.audit import audit_record, changes_between, snapshot
from spinui.models import Account, Application, DockerRegistry, Region
from spinui.permissions import LEVELS, codename, grants_of


class InUse(Exception):
    """Refused delete: other things still refer to the object."""

    SHOWN = 5

    def __init__(self, instance: models.Model, referents) -> None:
        self.instance = instance
        self.referents = sorted(f"{obj._meta.verbose_name} {obj}" for obj in referents)
        shown = ", ".join(self.referents[: self.SHOWN])
        more = len(self.referents) - self.SHOWN
        if more > 0:
            shown += f" and {more} more"
        super().__init__(
            f"{instance._meta.verbose_name.capitalize()} {instance} is still used by "
            f"{shown}; remove those first."
        )


def _target_type(instance: models.Model) -> str:
    return instance._meta.model_name


def _application_of(instance: models.Model) -> str:
    return instance.name if isinstance(instance, Application) else ""


@transaction.atomic
def _create(actor, instance: models.Model) -> models.Model:
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action="create",
        target_type=_target_type(instance),
        target_name=str(instance),
        changes=changes_between({}, snapshot(instance)),
        application=_application_of(instance),
    )
    return instance


@transaction.atomic
def _update(actor, instance: models.Model, fields: dict[str, Any]) -> models.Model:
    before = snapshot(type(instance).objects.get(pk=instance.pk))
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    changes = changes_between(before, snapshot(instance))
    if changes:
        audit_record(
            actor=actor,
            action="update",
            target_type=_target_type(instance),
            target_name=str(instance),
            changes=changes,
            application=_application_of(instance),
        )
    return instance


def _delete(actor, instance: models.Model) -> None:
    before = snapshot(instance)
    name = str(instance)
    try:
        with transaction.atomic():
            instance.delete()
            audit_record(
                actor=actor,
                action="delete",
                target_type=_target_type(instance),
                target_name=name,
                changes=changes_between(before, {}),
                application=_application_of(instance),
            )
    except ProtectedError as error:
        raise InUse(instance, error.protected_objects) from error


@transaction.atomic
def application_create(*, actor, application: Application) -> Application:
    _create(actor, application)
    if not actor.is_superuser:
        # The creator can see and run what they made until an admin grants roles.
        for level in LEVELS[Application]:
            assign_perm(codename(level, Application), actor, application)
    return application


def application_update(*, actor, application: Application, **fields) -> Application:
    return _update(actor, application, fields)


def application_delete(*, actor, application: Application) -> None:
    _delete(actor, application)


def account_create(*, actor, account: Account) -> Account:
    return _create(actor, account)


def account_update(*, actor, account: Account, **fields) -> Account:
    return _update(actor, account, fields)


def account_delete(*, actor, account: Account) -> None:
    _delete(actor, account)


def region_create(*, actor, region: Region) -> Region:
    return _create(actor, region)


def region_update(*, actor, region: Region, **fields) -> Region:
    return _update(actor, region, fields)


def region_delete(*, actor, region: Region) -> None:
    _delete(actor, region)


def registry_create(*, actor, registry: DockerRegistry) -> DockerRegistry:
    return _create(actor, registry)


def registry_update(*, actor, registry: DockerRegistry, **fields) -> DockerRegistry:
    return _update(actor, registry, fields)


def registry_delete(*, actor, registry: DockerRegistry) -> None:
    _delete(actor, registry)


@transaction.atomic
def grants_set(*, actor, obj: Application | Account, grants: dict[Group, set[str]]) -> None:
    """Make each role's levels on OBJ exactly those given; roles left out lose theirs."""
    model = type(obj)
    current = grants_of(obj)
    changes = {}
    for group in current.keys() | grants.keys():
        old = current.get(group, set())
        new = grants.get(group, set()) & set(LEVELS[model])
        for level in new - old:
            assign_perm(codename(level, model), group, obj)
        for level in old - new:
            remove_perm(codename(level, model), group, obj)
        if old != new:
            changes[group.name] = [_ordered(old, model), _ordered(new, model)]
    if changes:
        audit_record(
            actor=actor,
            action="permissions",
            target_type=model._meta.model_name,
            target_name=str(obj),
            changes=changes,
            application=_application_of(obj),
        )


def _ordered(levels: set[str], model: type[models.Model]) -> list[str]:
    return [level.upper() for level in LEVELS[model] if level in levels]


def _create_applications_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="spinui", codename="add_application")


@transaction.atomic
def role_save(*, actor, role: Group, members: list, can_create_applications: bool) -> Group:
    """Create or change a role: its name, its members, and whether it may create applications."""
    before = _role_snapshot(role) if role.pk else {}
    role.full_clean()
    role.save()
    role.user_set.set(members)
    create = _create_applications_permission()
    if can_create_applications:
        role.permissions.add(create)
    else:
        role.permissions.remove(create)
    changes = changes_between(before, _role_snapshot(role))
    if changes:
        audit_record(
            actor=actor,
            action="update" if before else "create",
            target_type="role",
            target_name=role.name,
            changes=changes,
        )
    return role


def _role_snapshot(role: Group) -> dict[str, Any]:
    return {
        "name": role.name,
        "members": sorted(role.user_set.values_list("username", flat=True)),
        "can_create_applications": role.permissions.filter(codename="add_application").exists(),
    }


@transaction.atomic
def role_delete(*, actor, role: Group) -> None:
    before = _role_snapshot(role)
    name = role.name
    role.delete()
    audit_record(
        actor=actor,
        action="delete",
        target_type="role",
        target_name=name,
        changes=changes_between(before, {}),
    )


@transaction.atomic
def user_save(*, actor, user, password: str = ""):
    """Create or change a user account; the password is set only when one is given."""
    before = _user_snapshot(type(user).objects.get(pk=user.pk)) if user.pk else {}
    if password:
        user.set_password(password)
    user.full_clean()
    user.save()
    changes = changes_between(before, _user_snapshot(user))
    if password and before:
        changes["password"] = ["(set)", "(replaced)"]
    if changes:
        audit_record(
            actor=actor,
            action="update" if before else "create",
            target_type="user",
            target_name=user.get_username(),
            changes=changes,
        )
    return user


def _user_snapshot(user) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
    }
