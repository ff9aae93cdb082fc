"""DASHBOARD_VIEWERS_MUST_LOG_IN: when set, every page and read endpoint needs a logged-in user. The login
page, the language switch, the translations, static files and the health check stay open (a login page
must be reachable and readable in both languages); the API answers 401 in its JSON shape, pages redirect
to the login. The sockets check the same setting (dashboard/consumers.py)."""
from django.conf import settings
from django.contrib.auth.views import redirect_to_login

OPEN = ("/accounts/login/", "/i18n/", "/jsi18n/", "/static/", "/healthz")


def viewers_must_log_in(get_response):
    def middleware(request):
        if (settings.DASHBOARD_VIEWERS_MUST_LOG_IN and not request.user.is_authenticated
                and not request.path.startswith(OPEN)):
            if request.path.startswith("/api/"):
                from .api import error

                return error(None, "log in to watch: this dashboard requires an account for viewers", 401)
            return redirect_to_login(request.get_full_path())
        return get_response(request)

    return middleware
