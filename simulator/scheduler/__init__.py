"""kube-scheduler model."""
from .scheduler import Scheduler, fit_error_message

__all__ = ["Scheduler", "fit_error_message"]
