"""``manage.py expression eval 'EXPR' [--context FILE.json]``: try an expression."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipelines.expressions import Environment, ExpressionError, evaluate_template


class Command(BaseCommand):
    help = (
        "Evaluate a pipeline expression as it would stand in a stage's config "
        "(e.g. '${trigger.tag}' or 'image-${trigger.tag}') and print the value as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="action", required=True)
        evaluate = subcommands.add_parser("eval", help="evaluate one template")
        evaluate.add_argument("expression", help="the text, e.g. '${trigger.tag}'")
        evaluate.add_argument(
            "--context",
            type=Path,
            help="a JSON object that becomes #root: a stage context with trigger, parameters, "
            "execution (with its stages list) and variables",
        )
        evaluate.add_argument(
            "--execution", help="a stored execution's id: it becomes #root instead of --context"
        )
        evaluate.add_argument(
            "--stage", help="with --execution: evaluate in this stage's scope (its refId)"
        )
        evaluate.add_argument("--current-stage-id", help="the stage #currentStage() returns")
        evaluate.add_argument("--user", help="the user #currentUser() returns")

    def handle(self, *args, action: str, expression: str, **options) -> None:
        if options.get("execution"):
            root = self._stored(options["execution"], options.get("stage"))
        else:
            root = self._root(options.get("context"))
        environment = Environment(
            current_stage_id=options.get("current_stage_id"), user=options.get("user")
        )
        try:
            value = evaluate_template(expression, root, environment=environment)
        except ExpressionError as error:
            raise CommandError(_explain(expression, error)) from None
        self.stdout.write(json.dumps(value, indent=2, ensure_ascii=False))

    def _stored(self, execution_id: str, stage_ref: str | None) -> dict:
        from pipelines.engine.serialize import expression_root
        from pipelines.models import Execution

        try:
            execution = Execution.objects.get(id=execution_id)
        except (Execution.DoesNotExist, ValidationError, ValueError):
            raise CommandError(f"no execution {execution_id}") from None
        try:
            return expression_root(execution, stage_ref)
        except LookupError as error:
            raise CommandError(str(error)) from None

    def _root(self, path: Path | None) -> dict:
        if path is None:
            return {}
        try:
            root = json.loads(path.read_text())
        except OSError as error:
            raise CommandError(f"cannot read the context file: {error}") from None
        except ValueError as error:
            raise CommandError(f"the context file {path} is not valid JSON: {error}") from None
        if type(root) is not dict:
            raise CommandError(f"the context file {path} must hold a JSON object")
        return root


def _explain(expression: str, error: ExpressionError) -> str:
    """The error, the expression, and a caret under the column."""
    if error.column is None or "\n" in expression:
        return error.message
    caret = " " * (error.column - 1) + "^"
    return f"column {error.column}: {error.message}\n  {expression}\n  {caret}"
