"""Pipelines as code: `manage.py pipeline export|import|apply`.

export APP [NAME] [-f FILE]   print (or write) Spinnaker pipeline JSON: one object, or a list
import -f FILE                save every pipeline in FILE (one object or a list): a revision each
apply -f FILE                 the same, but only where the file differs from what is stored
"""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipelines import services
from pipelines.config import InvalidConfig
from pipelines.models import Pipeline
from spinui.models import Application


class Command(BaseCommand):
    help = "Export, import or apply pipelines in Spinnaker's JSON format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "import", "apply"])
        parser.add_argument("application", nargs="?", help="export: the application")
        parser.add_argument("name", nargs="?", help="export: one pipeline's name")
        parser.add_argument("-f", "--file", type=Path, help="the file to read or write")
        parser.add_argument(
            "--user", default="admin", help="who the saves are recorded as (default admin)"
        )

    def handle(self, *args, action: str, **options) -> None:
        if action == "export":
            self._export(options["application"], options["name"], options["file"])
        else:
            if options["file"] is None:
                raise CommandError(f"{action} needs -f FILE")
            self._save(self._read(options["file"]), options["user"], only_changed=action == "apply")

    def _export(self, application: str | None, name: str | None, path: Path | None) -> None:
        if not application:
            raise CommandError("export needs the application's name")
        pipelines = Pipeline.objects.filter(application__name=application).order_by("name")
        if name:
            pipelines = pipelines.filter(name=name)
            if not pipelines:
                raise CommandError(f"{application} has no pipeline named {name!r}")
        configs = [p.config for p in pipelines]
        text = json.dumps(configs[0] if name else configs, indent=2, ensure_ascii=False) + "\n"
        if path:
            path.write_text(text)
        else:
            sys.stdout.write(text)

    def _read(self, path: Path) -> list[dict]:
        try:
            loaded = json.loads(path.read_text())
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error}") from None
        except ValueError as error:
            raise CommandError(f"{path} is not valid JSON: {error}") from None
        configs = loaded if isinstance(loaded, list) else [loaded]
        if not all(isinstance(c, dict) for c in configs):
            raise CommandError(f"{path} must hold a pipeline object or a list of them")
        return configs

    def _save(self, configs: list[dict], username: str, only_changed: bool) -> None:
        actor = get_user_model().objects.filter(username=username).first()
        if actor is None:
            raise CommandError(f"no user {username!r}; name one with --user")
        failed = False
        for index, config in enumerate(configs):
            label = f"[{index}] {config.get('name', '?')}"
            application = Application.objects.filter(name=config.get("application")).first()
            if application is None:
                self.stderr.write(f"{label}: no application {config.get('application')!r}")
                failed = True
                continue
            stored = (
                Pipeline.objects.filter(id=config.get("id")).first() if config.get("id") else None
            )
            if (
                only_changed
                and stored
                and stored.config == {**config, "application": application.name}
            ):
                self.stdout.write(f"{label}: unchanged")
                continue
            try:
                saved = services.pipeline_save(actor=actor, application=application, config=config)
            except InvalidConfig as error:
                failed = True
                for detail in error.details():
                    self.stderr.write(f"{label}: {detail['path']}: {'; '.join(detail['errors'])}")
                continue
            self.stdout.write(f"{label}: {'updated' if stored else 'created'} ({saved.id})")
        if failed:
            raise CommandError("some pipelines were not saved; see above")
