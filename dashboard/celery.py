"""The Celery app (`dashboard.celery:app`). Broker: the same Redis as everything else (REDIS_URL)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("dashboard")
# Every CELERY_* setting in dashboard/settings.py configures the app (see the Celery section there).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["dashboard"])
