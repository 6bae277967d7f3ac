"""Demo pipelines for `make run` (idempotent): control stages only until deploy stages land."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from pipelines import services
from pipelines.models import Pipeline
from spinui.models import Application

RELEASE = {
    "id": "00000000-0000-4000-8000-00000000de01",
    "name": "Release checklist",
    "description": "Waits, checks, and asks a release manager before going on.",
    "parameterConfig": [
        {"name": "version", "label": "Version", "required": True, "default": "1.0.0"},
        {
            "name": "env",
            "label": "Environment",
            "hasOptions": True,
            "default": "dev",
            "options": [{"value": "dev"}, {"value": "prod"}],
        },
    ],
    "limitConcurrent": True,
    "stages": [
        {
            "refId": "1",
            "type": "evaluateVariables",
            "name": "Name the release",
            "variables": [
                {"key": "release", "value": "hello-${parameters.version}-${parameters.env}"}
            ],
        },
        {
            "refId": "2",
            "type": "wait",
            "name": "Soak",
            "waitTime": 5,
            "requisiteStageRefIds": ["1"],
        },
        {
            "refId": "3",
            "type": "checkPreconditions",
            "name": "Version looks right",
            "requisiteStageRefIds": ["1"],
            "preconditions": [
                {
                    "type": "expression",
                    "context": {"expression": "parameters.version matches '\\d+\\.\\d+\\.\\d+'"},
                }
            ],
        },
        {
            "refId": "4",
            "type": "manualJudgment",
            "name": "Approve",
            "requisiteStageRefIds": ["2", "3"],
            "instructions": "Ship ${release}?",
            "judgmentInputs": [{"value": "ship"}, {"value": "hold"}],
            "selectedStageRoles": ["release-managers"],
        },
        {
            "refId": "5",
            "type": "checkPreconditions",
            "name": "Shipping",
            "requisiteStageRefIds": ["4"],
            "preconditions": [
                {
                    "type": "expression",
                    "context": {"expression": "#judgment('Approve') == 'ship'"},
                    "failPipeline": False,
                }
            ],
        },
    ],
}


class Command(BaseCommand):
    help = "Create the demo pipelines of the demo application (idempotent)."

    def handle(self, *args, **options) -> None:
        application = Application.objects.filter(name="hello").first()
        admin = get_user_model().objects.filter(username="admin").first()
        if application is None or admin is None:
            self.stderr.write("Run seed_demo first: the demo application and admin are missing.")
            return
        if not Pipeline.objects.filter(id=RELEASE["id"]).exists():
            services.pipeline_save(actor=admin, application=application, config=RELEASE)
            self.stdout.write("Created the demo pipeline 'Release checklist'.")
