from django.urls import include, path

urlpatterns: list = [
    path("api/v1/", include("spinui.api_urls")),
]
