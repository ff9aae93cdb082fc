from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from . import api, views

urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),  # POST /i18n/setlang/
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("healthz", api.healthz, name="healthz"),
    path("api/scenarios", api.scenarios_view, name="api-scenarios"),
    path("api/events/catalog", api.events_catalog, name="api-events-catalog"),
    path("api/classroom/focus", api.classroom_focus, name="api-classroom-focus"),
    path("api/live", api.live_cluster, name="api-live"),
    path("api/live/kubeconfig", api.live_kubeconfig, name="api-live-kubeconfig"),
    path("api/runs", api.runs, name="api-runs"),
    path("api/runs/<str:run_id>", api.run_detail, name="api-run"),
    path("api/runs/<str:run_id>/control", api.run_control, name="api-run-control"),
    path("api/runs/<str:run_id>/events", api.run_events, name="api-run-events"),
    # No "$": Django full-matches a pattern ending in "$", and "." stops at a newline (/api/x%0A was HTML).
    re_path(r"^api/", api.not_found),
]
