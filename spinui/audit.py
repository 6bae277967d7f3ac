"""The audit log: who changed what, when, with a before/after summary free of secrets."""

from datetime import date, datetime
from typing import Any

from django.db import models

from spinui.crypto import EncryptedTextField
from spinui.models import AuditEntry

UNAUDITED_FIELDS = {"id", "created_at", "updated_at"}


class _Secret:
    """A secret's value, comparable for change detection but never shown."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Secret) and other.value == self.value

    def __repr__(self) -> str:
        return "(secret)"


def snapshot(instance: models.Model) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in UNAUDITED_FIELDS:
            continue
        value = field.value_from_object(instance)
        if isinstance(field, EncryptedTextField):
            value = _Secret(value or "")
        elif isinstance(field, models.ForeignKey):
            value = str(getattr(instance, field.name))
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        values[field.name] = value
    return values


def _shown(value: Any, replaced: bool = False) -> Any:
    if isinstance(value, _Secret):
        if not value.value:
            return "(empty)"
        return "(replaced)" if replaced else "(set)"
    return value


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    changed = {}
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old != new:
            replaced = isinstance(old, _Secret) and bool(old.value)
            changed[name] = [_shown(old), _shown(new, replaced)]
    return changed


def audit_record(
    *,
    actor,
    action: str,
    target_type: str,
    target_name: str,
    changes: dict | None = None,
    application: str = "",
    actor_name: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor_name or (actor.get_username() if actor is not None else "system"),
        action=action,
        target_type=target_type,
        target_name=target_name,
        application=application,
        changes=changes or {},
    )


def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """Django's user_login_failed signal: the only hook auth gives; credentials come cleansed."""
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None,
        actor_name=username or "(anonymous)",
        action="login_failed",
        target_type="user",
        target_name=username,
    )
