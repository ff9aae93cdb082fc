"""`manage.py ensure_instructor` creates the instructor once, with the permission, and stays quiet after."""
from io import StringIO

import pytest
from django.core.management import call_command

from dashboard.api import is_instructor

pytestmark = pytest.mark.django_db


def run_command():
    out = StringIO()
    call_command("ensure_instructor", stdout=out)
    return out.getvalue()


def test_creates_the_instructor_with_a_random_password_once(django_user_model, monkeypatch, settings):
    monkeypatch.delenv("DASHBOARD_INSTRUCTOR_PASSWORD", raising=False)
    settings.DASHBOARD_INSTRUCTOR_USER = "prof"
    printed = run_command()
    password = printed.strip().rsplit(" ", 1)[-1]
    user = django_user_model.objects.get(username="prof")
    assert user.check_password(password)
    assert is_instructor(user) and not user.is_staff
    assert run_command() == ""  # nothing secret, nothing at all, the second time


def test_uses_the_given_password(django_user_model, monkeypatch, settings):
    monkeypatch.setenv("DASHBOARD_INSTRUCTOR_PASSWORD", "s3cret-given-pw")
    settings.DASHBOARD_INSTRUCTOR_USER = "prof2"
    printed = run_command()
    assert "s3cret-given-pw" not in printed
    assert django_user_model.objects.get(username="prof2").check_password("s3cret-given-pw")
