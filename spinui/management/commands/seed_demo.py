"""Seed the demo that `make run` shows: idempotent, safe to run at every start."""

import os
import secrets

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction
from guardian.shortcuts import assign_perm

from spinui.audit import audit_record
from spinui.models import Account, Application, Region
from spinui.permissions import codename
from spinui.settings import generated_once

CLUSTERS = {"dev": "http://127.0.0.1:18080", "prod": "http://127.0.0.1:18081"}
# role → {object: levels}, and whether the role may create applications
ROLES = {
    "developers": (
        {"hello": ("read", "write", "execute"), "dev": ("read", "write"), "prod": ("read",)},
        True,
    ),
    "release-managers": (
        {"hello": ("read", "execute"), "dev": ("read",), "prod": ("read", "write")},
        False,
    ),
}


class Command(BaseCommand):
    help = "Create the demo admin, application, accounts, regions and roles (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            password = self._admin()
            objects = self._objects()
            self._roles(objects)
        self.stdout.write(
            f"\nspinui is at {settings.SPINUI_BASE_URL}/ — log in as admin / {password}\n"
        )

    def _admin(self) -> str:
        password = os.environ.get("SPINUI_ADMIN_PASSWORD") or generated_once(
            settings.VAR_DIR / "admin_password", lambda: secrets.token_urlsafe(12)
        )
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={"email": "admin@localhost", "is_superuser": True, "is_staff": True},
        )
        if created or not admin.check_password(password):
            admin.set_password(password)
            admin.save()
        if created:
            audit_record(actor=None, action="create", target_type="user", target_name="admin")
        return password

    def _objects(self) -> dict:
        hello, created = Application.objects.get_or_create(
            name="hello",
            defaults={
                "email": "hello-team@localhost",
                "description": "The demo application: spinui/hello on the local DC/OS clusters.",
            },
        )
        if created:
            audit_record(
                actor=None,
                action="create",
                target_type="application",
                target_name="hello",
                application="hello",
            )
        objects = {"hello": hello}
        for name, url in CLUSTERS.items():
            account, _ = Account.objects.get_or_create(
                name=name,
                defaults={"environment": name, "description": f"The local DC/OS cluster {name}"},
            )
            Region.objects.get_or_create(account=account, name=name, defaults={"url": url})
            objects[name] = account
        return objects

    def _roles(self, objects: dict) -> None:
        create = Permission.objects.get(
            content_type__app_label="spinui", codename="add_application"
        )
        for role_name, (grants, can_create) in ROLES.items():
            role, _ = Group.objects.get_or_create(name=role_name)
            for object_name, levels in grants.items():
                obj = objects[object_name]
                for level in levels:
                    assign_perm(codename(level, type(obj)), role, obj)
            if can_create:
                role.permissions.add(create)
