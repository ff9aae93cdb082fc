"""The page, the auth and i18n views, and static files served by the ASGI app itself (DEBUG on or off)."""
import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from dashboard.models import Run

pytestmark = pytest.mark.django_db


def test_index_context_for_a_viewer(client, redis_conn):
    run = Run.objects.create(scenario="pod-create")
    r = client.get("/")
    assert r.status_code == 200
    assert r.context["is_instructor"] is False
    assert r.context["initial_run"]["id"] == run.id.hex
    assert any(s["id"] == "pod-create" for s in r.context["scenarios"])
    assert r.context["ws_base"] == ""


def test_index_context_for_an_instructor(instructor_client, redis_conn):
    r = instructor_client.get("/")
    assert r.status_code == 200
    assert r.context["is_instructor"] is True
    assert r.context["initial_run"] is None


def test_login_logout_and_language_switch(client, instructor, redis_conn):
    r = client.post("/accounts/login/", {"username": "teacher", "password": "pw-teacher-123"})
    assert r.status_code == 302 and r["Location"] == "/"
    r = client.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    assert r.status_code == 302
    assert client.cookies["django_language"].value == "ko"
    assert client.post("/accounts/logout/").status_code == 302


def test_javascript_catalog(client):
    r = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="ko")
    assert r.status_code == 200
    assert "django.catalog" in r.content.decode() or "catalog" in r.content.decode()


@pytest.mark.parametrize("debug", [True, False])
def test_static_files_are_served_by_the_asgi_app(settings, debug):
    from dashboard.asgi import application

    settings.DEBUG = debug

    async def fetch(path):
        scope = {"type": "http", "http_version": "1.1", "method": "GET", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "headers": [(b"host", b"localhost")], "scheme": "http",
                 "server": ("localhost", 80), "client": ("127.0.0.1", 1234)}
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(10)
        body = b""
        while True:
            chunk = await communicator.receive_output(10)
            body += chunk.get("body", b"")
            if not chunk.get("more_body"):
                break
        await communicator.wait(10)
        return {"status": start["status"], "body": body}

    response = async_to_sync(fetch)("/static/admin/css/base.css")
    assert response["status"] == 200
    assert b"body" in response["body"]
    missing = async_to_sync(fetch)("/static/no/such/file.css")
    assert missing["status"] == 404


def test_healthz_reports_a_missing_worker(client, redis_conn):
    # test_redis has no Celery worker on it: the page says so with a 503, naming what is down.
    r = client.get("/healthz")
    assert r.status_code == 503
    assert json.loads(r.content) == {"db": "ok", "redis": "ok", "worker": "down"}
