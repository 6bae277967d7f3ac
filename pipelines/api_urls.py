"""Routes of the pipelines API, mounted at /api/v1/ before spinui's; each is in the OpenAPI
document (spinui/openapi.py)."""

from django.urls import path

from pipelines import api

urlpatterns = [
    path("pipelines", api.pipeline_save, name="api_pipeline_save"),
    path(
        "applications/<str:application>/pipelineConfigs",
        api.pipeline_configs,
        name="api_pipeline_configs",
    ),
    path("applications/<str:application>/pipelines", api.executions, name="api_executions"),
    path(
        "pipelineConfigs/<str:pipeline_id>/history",
        api.pipeline_history,
        name="api_pipeline_history",
    ),
    path("applications/<str:application>/tasks", api.tasks, name="api_tasks"),
    path("pipelines/<uuid:execution_id>", api.execution, name="api_execution"),
    path("pipelines/<uuid:execution_id>/cancel", api.execution_cancel, name="api_cancel"),
    path("pipelines/<uuid:execution_id>/pause", api.execution_pause, name="api_pause"),
    path("pipelines/<uuid:execution_id>/resume", api.execution_resume, name="api_resume"),
    path(
        "pipelines/<uuid:execution_id>/evaluateExpression",
        api.evaluate_expression,
        name="api_evaluate_expression",
    ),
    path(
        "pipelines/<uuid:execution_id>/stages/<uuid:stage_id>",
        api.stage_update,
        name="api_stage_update",
    ),
    path(
        "pipelines/<uuid:execution_id>/stages/<uuid:stage_id>/restart",
        api.stage_restart,
        name="api_stage_restart",
    ),
    path("pipelines/<str:application>/<str:name>", api.pipeline, name="api_pipeline"),
    path("tasks/<uuid:execution_id>", api.task, name="api_task"),
]
