"""K8s Internals Dashboard: the Django project and app in one package.

The Celery app is imported here so that `celery -A dashboard` and Django's `shared_task` find it.
"""
from .celery import app as celery_app

__all__ = ("celery_app",)
