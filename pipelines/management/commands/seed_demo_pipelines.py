"""The demo application's pipelines for `make run`: every examples/pipelines/*.json, saved
once (idempotent; a pipeline that exists is left as it is, edits included)."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from pipelines import services
from pipelines.config import InvalidConfig
from pipelines.models import Pipeline
from spinui.models import Application

EXAMPLES = Path(settings.BASE_DIR) / "examples" / "pipelines"


class Command(BaseCommand):
    help = "Save the example pipelines (examples/pipelines/*.json) for the demo application."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--directory", type=Path, default=EXAMPLES, help="where the JSON is")

    def handle(self, *args, directory: Path, **options) -> None:
        application = Application.objects.filter(name="hello").first()
        admin = get_user_model().objects.filter(username="admin").first()
        if application is None or admin is None:
            raise CommandError("Run seed_demo first: the demo application and admin are missing.")
        for path in sorted(directory.glob("*.json")):
            config = self._read(path)
            if Pipeline.objects.filter(id=config.get("id")).exists():
                continue
            try:
                services.pipeline_save(actor=admin, application=application, config=config)
            except InvalidConfig as error:
                raise CommandError(f"{path.name} is not a valid pipeline: {error}") from None
            self.stdout.write(f"Created the demo pipeline {config['name']!r} from {path.name}.")

    @staticmethod
    def _read(path: Path) -> dict:
        try:
            config = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise CommandError(f"{path.name}: {error}") from None
        if not isinstance(config, dict) or not config.get("id"):
            raise CommandError(f"{path.name}: a pipeline is a JSON object with an id")
        return config
