from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from spinui import infrastructure_views, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="application_list"), name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="spinui/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/new/", views.application_create, name="application_create"),
    path("applications/<str:name>/", views.application_detail, name="application_detail"),
    path("applications/<str:name>/edit/", views.application_edit, name="application_edit"),
    path("applications/<str:name>/delete/", views.application_delete, name="application_delete"),
    path(
        "applications/<str:name>/permissions/",
        views.application_permissions,
        name="application_permissions",
    ),
    path("applications/<str:name>/audit/", views.application_audit, name="application_audit"),
    path(
        "applications/<str:name>/clusters/",
        infrastructure_views.clusters,
        name="application_clusters",
    ),
    path(
        "applications/<str:name>/serverGroups/<str:account>/<str:region>/<str:server_group>/",
        infrastructure_views.server_group_detail,
        name="server_group_detail",
    ),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<str:name>/", views.account_detail, name="account_detail"),
    path("accounts/<str:name>/delete/", views.account_delete, name="account_delete"),
    path(
        "accounts/<str:name>/permissions/",
        views.account_permissions,
        name="account_permissions",
    ),
    path("accounts/<str:name>/regions/new/", views.region_edit, name="region_create"),
    path("accounts/<str:name>/regions/<str:region>/", views.region_edit, name="region_edit"),
    path(
        "accounts/<str:name>/regions/<str:region>/test/",
        infrastructure_views.region_test,
        name="region_test",
    ),
    path(
        "accounts/<str:name>/regions/<str:region>/delete/",
        views.region_delete,
        name="region_delete",
    ),
    path("registries/", views.registry_list, name="registry_list"),
    path("registries/new/", views.registry_edit, name="registry_create"),
    path("registries/<str:name>/", views.registry_edit, name="registry_edit"),
    path("registries/<str:name>/delete/", views.registry_delete, name="registry_delete"),
    path("admin/roles/", views.role_list, name="role_list"),
    path("admin/roles/new/", views.role_edit, name="role_create"),
    path("admin/roles/<int:role_id>/", views.role_edit, name="role_edit"),
    path("admin/roles/<int:role_id>/delete/", views.role_delete, name="role_delete"),
    path("admin/users/new/", views.user_edit, name="user_create"),
    path("admin/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("audit/", views.audit_list, name="audit_list"),
    path("", include("pipelines.urls")),
    # The pipelines app's routes come first: spinui's end with a catch-all JSON 404.
    path("api/v1/", include("pipelines.api_urls")),
    path("api/v1/", include("spinui.api_urls")),
]
