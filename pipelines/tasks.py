"""Celery tasks: thin, each loads ids and calls its handler."""

from celery import shared_task

from pipelines.engine import handlers


@shared_task(name="pipelines.tasks.start_execution")
def start_execution(execution_id: str) -> None:
    handlers.start_execution(execution_id)


@shared_task(name="pipelines.tasks.start_stage")
def start_stage(stage_id: str) -> None:
    handlers.start_stage(stage_id)


@shared_task(name="pipelines.tasks.run_stage")
def run_stage(stage_id: str, expected_wake: str | None) -> None:
    handlers.run_stage(stage_id, expected_wake)


@shared_task(name="pipelines.tasks.sweep")
def sweep() -> None:
    handlers.sweep()
