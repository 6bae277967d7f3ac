from django.urls import path

from pipelines import server_group_views, views

urlpatterns = [
    path("applications/<str:name>/pipelines/", views.pipeline_list, name="pipeline_list"),
    path("applications/<str:name>/pipelines/new/", views.pipeline_edit, name="pipeline_create"),
    path(
        "applications/<str:name>/pipelines/<str:pipeline>/",
        views.pipeline_edit,
        name="pipeline_edit",
    ),
    path(
        "applications/<str:name>/pipelines/<str:pipeline>/run/",
        views.pipeline_run,
        name="pipeline_run",
    ),
    path(
        "applications/<str:name>/pipelines/<str:pipeline>/delete/",
        views.pipeline_delete,
        name="pipeline_delete",
    ),
    path(
        "applications/<str:name>/pipelines/<str:pipeline>/revisions/<int:number>/restore/",
        views.revision_restore,
        name="revision_restore",
    ),
    path(
        "applications/<str:name>/serverGroups/new/",
        server_group_views.server_group_create,
        name="server_group_create",
    ),
    path(
        "applications/<str:name>/serverGroups/<str:account>/<str:region>/<str:server_group>/"
        "<str:action>/",
        server_group_views.server_group_action,
        name="server_group_action",
    ),
    path("applications/<str:name>/expressions/", views.playground, name="playground"),
    path("executions/<uuid:execution_id>/", views.execution_detail, name="execution_detail"),
    path(
        "executions/<uuid:execution_id>/stages/<uuid:stage_id>/output/",
        views.stage_job_output,
        name="stage_job_output",
    ),
    path(
        "executions/<uuid:execution_id>/<str:action>/",
        views.execution_action,
        name="execution_action",
    ),
]
