from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "K8s Internals Dashboard"
    default_auto_field = "django.db.models.BigAutoField"
