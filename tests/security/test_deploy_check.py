"""`manage.py check --deploy` passes, with no warning, under the production settings README documents ("For a
classroom network"); the variables are read from README itself, so the two cannot drift apart. And those
settings do on a request what the check takes on trust: HSTS and Secure cookies behind the TLS proxy."""
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_production_env() -> dict[str, str]:
    """The KEY=value pairs of README's production command (the shell block that sets DJANGO_SECURE=1)."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    block = next(b for b in blocks if "DJANGO_SECURE=1" in b)
    env = dict(re.findall(r"\b([A-Z][A-Z0-9_]+)=(<[^>]*>|\S+)", block))
    assert env["DJANGO_SECRET_KEY"].startswith("<"), "README shows a placeholder, never a key"
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def production_env(tmp_path, **changes) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DASHBOARD_"))}
    env.update(readme_production_env())
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PYTHONPATH=str(ROOT))
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def check_deploy(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_readme_production_settings_pass_check_deploy(tmp_path):
    env = production_env(tmp_path)
    assert {"DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DJANGO_CSRF_TRUSTED_ORIGINS", "DJANGO_SECURE"} <= set(env)
    result = check_deploy(env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "System check identified no issues" in out and "WARNING" not in out, out
    # The one silenced check is SSL redirect, left to the proxy; with Django redirecting, nothing is silenced.
    result = check_deploy(production_env(tmp_path, DJANGO_SSL_REDIRECT="1"))
    assert result.returncode == 0 and "no issues (0 silenced)" in result.stdout, result.stdout + result.stderr


def test_check_deploy_warns_without_the_tls_settings(tmp_path):
    """The test above can fail: without DJANGO_SECURE the same check names what is missing."""
    result = check_deploy(production_env(tmp_path, DJANGO_SECURE=None))
    out = result.stdout + result.stderr
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in out, out


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = check_deploy(production_env(tmp_path, DJANGO_SECRET_KEY=None))
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


RESPONSE_PROBE = """
import django
django.setup()
from django.test import Client
r = Client().get("/accounts/login/", HTTP_HOST="dashboard.example.org", HTTP_X_FORWARDED_PROTO="https")
cookie = r.cookies["csrftoken"]
print(r.status_code, r["Strict-Transport-Security"], bool(cookie["secure"]), r.wsgi_request.is_secure())
"""


def test_production_responses_carry_hsts_and_secure_cookies(tmp_path):
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="dashboard.settings")
    result = subprocess.run([sys.executable, "-c", RESPONSE_PROBE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "200 max-age=31536000; includeSubDomains; preload True True", result.stdout
