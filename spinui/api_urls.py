"""Routes of the JSON API, mounted at /api/v1/; each one is in spinui/openapi.py too."""

from django.urls import path, re_path

from spinui import api

urlpatterns = [
    path("applications", api.applications, name="api_applications"),
    path("applications/<str:name>", api.application, name="api_application"),
    path("credentials", api.credentials, name="api_credentials"),
    path("openapi.json", api.openapi, name="api_openapi"),
    # Last: any other path under /api/v1/ answers with a JSON 404, not an HTML page.
    re_path(r"^(?P<path>.*)$", api.not_found, name="api_not_found"),
]
