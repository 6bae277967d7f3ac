"""Routes of the JSON API, mounted at /api/v1/; each one is in spinui/openapi.py too."""

from django.urls import path, re_path

from spinui import api, infrastructure_api

urlpatterns = [
    path("applications", api.applications, name="api_applications"),
    path("applications/<str:name>", api.application, name="api_application"),
    path(
        "applications/<str:name>/clusters",
        infrastructure_api.application_clusters,
        name="api_application_clusters",
    ),
    path(
        "applications/<str:name>/serverGroups",
        infrastructure_api.application_server_groups,
        name="api_application_server_groups",
    ),
    path(
        "serverGroups/<str:account>/<str:region>/<str:name>",
        infrastructure_api.server_group_detail,
        name="api_server_group",
    ),
    path(
        "instances/<str:account>/<str:region>/<str:instanceId>",
        infrastructure_api.instance_detail,
        name="api_instance",
    ),
    path("credentials", api.credentials, name="api_credentials"),
    path("openapi.json", api.openapi, name="api_openapi"),
    # Last: any other path under /api/v1/ answers with a JSON 404, not an HTML page.
    re_path(r"^(?P<path>.*)$", api.not_found, name="api_not_found"),
]
