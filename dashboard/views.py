"""The dashboard page. Login/logout, set_language and the JavaScript catalog are Django's own views."""
from django.shortcuts import render

from .api import is_instructor
from .runs import catalog, latest_run, run_json


def index(request):
    run = latest_run()
    return render(request, "dashboard/index.html", {
        "is_instructor": is_instructor(request.user),
        "scenarios": catalog(),
        "initial_run": run_json(run) if run else None,
        "ws_base": "",
    })
