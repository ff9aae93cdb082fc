"""Settings, read from the environment with safe defaults (contract section 7).

DJANGO_SECRET_KEY, DJANGO_DEBUG, DJANGO_ALLOWED_HOSTS, DJANGO_CSRF_TRUSTED_ORIGINS, DATABASE_URL, REDIS_URL,
DASHBOARD_INSTRUCTOR_USER, DASHBOARD_INSTRUCTOR_PASSWORD, DASHBOARD_LOG_MAXLEN, DASHBOARD_RUN_LEASE,
DASHBOARD_VIEWERS_MUST_LOG_IN, DASHBOARD_MAX_ACTIVE_RUNS, DASHBOARD_RUNS_PER_MINUTE, DASHBOARD_MAX_NODES,
DASHBOARD_MAX_PODS,
DJANGO_SECURE (with DJANGO_HSTS_SECONDS, DJANGO_HSTS_INCLUDE_SUBDOMAINS, DJANGO_HSTS_PRELOAD, DJANGO_SSL_REDIRECT).
"""
import os
from pathlib import Path

import dj_database_url
from redis.driver_info import DriverInfo
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}")
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}")
    return value


DEBUG = env_bool("DJANGO_DEBUG", "1")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
    SECRET_KEY = "dev-insecure-k8s-internals-dashboard-only-for-local-use"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Production behind TLS (README, "For a classroom network"). TLS ends at a reverse proxy (nginx, Caddy ...)
# in front of Daphne, which sets X-Forwarded-Proto and itself redirects http:// to https://; DJANGO_SECURE=1
# then marks the cookies Secure and sends HSTS. Only set it behind such a proxy: the forwarded header is
# trusted as is. Django can do the redirect instead (DJANGO_SSL_REDIRECT=1); when it does not, the
# deployment check's "SECURE_SSL_REDIRECT is not True" (security.W008) is the proxy's job and is silenced.
DJANGO_SECURE = env_bool("DJANGO_SECURE", "0")
if DJANGO_SECURE:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A year, subdomains included and preload allowed: what hstspreload.org asks for. Lower the seconds
    # while trying TLS out (the deployment check then warns, as it should).
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "1")
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", "1")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", "0")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer's health probe may speak plain HTTP
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS = ["security.W008"]

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's, serving HTTP and WebSocket alike.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.middleware.viewers_must_log_in",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        # Persistent connections: Daphne's consumers read the runs table through a thread per query, and a
        # fresh SQLite connection (with its PRAGMAs) per query cost as much as the query when a class connects.
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker writes while Daphne reads: WAL lets readers proceed during a write, IMMEDIATE takes the
    # write lock at BEGIN (no upgrade deadlocks), and the timeout waits for a busy lock instead of failing.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Internationalisation: Korean and English; LocaleMiddleware follows the browser's Accept-Language, then
# the language cookie set by /i18n/setlang/.
LANGUAGE_CODE = "en"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "dashboard" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"

# Redis: channel layer, run logs and control queues, and the Celery broker.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6390/0")
DASHBOARD_LOG_MAXLEN = env_int("DASHBOARD_LOG_MAXLEN", 100000, minimum=10)
# Seconds a run's lock outlives its worker: a killed worker's run is resumed about this long after (tasks.py).
DASHBOARD_RUN_LEASE = env_int("DASHBOARD_RUN_LEASE", 15, minimum=6)
DASHBOARD_INSTRUCTOR_USER = os.environ.get("DASHBOARD_INSTRUCTOR_USER", "instructor")

# The live simulated cluster's Kubernetes API (dashboard/kubeapi; `manage.py kubeapi`, started by `make run`):
# HTTPS on KUBEAPI_PORT (6443, kube-apiserver's port). Kubeconfigs name KUBEAPI_PUBLIC_HOST (default: this
# machine's name when the dashboard listens on every interface, else localhost); KUBEAPI_HOSTS adds names or
# addresses to its certificate.
KUBEAPI_ENABLED = env_bool("KUBEAPI_ENABLED", "1")
KUBEAPI_PORT = env_int("KUBEAPI_PORT", 6443, minimum=1)
KUBEAPI_BIND = os.environ.get("KUBEAPI_BIND", os.environ.get("DASHBOARD_BIND", "127.0.0.1"))
KUBEAPI_PUBLIC_HOST = os.environ.get("KUBEAPI_PUBLIC_HOST", "")
KUBEAPI_HOSTS = env_list("KUBEAPI_HOSTS", "")
# Cluster seconds per wall-clock second (1: real timings; the tests run it faster).
try:
    KUBEAPI_SPEED = float(os.environ.get("KUBEAPI_SPEED") or 1)
except ValueError:
    raise ImproperlyConfigured(f"KUBEAPI_SPEED must be a number, not {os.environ.get('KUBEAPI_SPEED')!r}")
if not 0.1 <= KUBEAPI_SPEED <= 20:
    raise ImproperlyConfigured("KUBEAPI_SPEED must be between 0.1 and 20")
# Its CA and serving certificate (made on first use; the keys never leave this directory).
KUBEAPI_DIR = Path(os.environ.get("KUBEAPI_DIR") or BASE_DIR / "var" / "kubeapi")
# Its API server keeps an audit log under this policy (the one `make kind-up` gives the lessons' kind cluster;
# empty: no audit log), in KUBEAPI_DIR/var-log/kubernetes/kube-apiserver-audit.log, which the control-plane
# node's kubelet serves at /api/v1/nodes/control-plane/proxy/logs/kubernetes/kube-apiserver-audit.log.
KUBEAPI_AUDIT_POLICY = os.environ.get("KUBEAPI_AUDIT_POLICY",
                                      str(BASE_DIR / "dashboard" / "realcluster" / "kind" / "audit-policy.yaml"))

# The `api` backend (dashboard/realcluster): scenarios run on a real cluster through this kubeconfig and
# context (the lessons' kind cluster by default). Read by the worker only, at the start of each run; nothing
# derived from it reaches a page, an event or a log line.
DASHBOARD_API_KUBECONFIG = Path(os.environ.get("DASHBOARD_API_KUBECONFIG")
                                or (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
                                or Path.home() / ".kube" / "config")
DASHBOARD_API_CONTEXT = os.environ.get("DASHBOARD_API_CONTEXT", "kind-challenge-cluster")
# Seconds one request to that cluster may take (connect and read) before it counts as lost.
DASHBOARD_API_TIMEOUT = env_int("DASHBOARD_API_TIMEOUT", 10, minimum=1)
# Seconds a scenario on a real cluster may take in all before it is stopped as failed (its namespace deleted).
DASHBOARD_API_RUN_TIMEOUT = env_int("DASHBOARD_API_RUN_TIMEOUT", 300, minimum=10)
# The docker command node failure uses to pause a kind node's container (dashboard/realcluster/docker.py).
DASHBOARD_API_DOCKER = os.environ.get("DASHBOARD_API_DOCKER", "docker")

# Roles and limits (README, "Settings"). Off by default, viewers watch without an account; on, the
# page, the read API and the sockets need a logged-in user (any account; instructors still need the
# instructor permission to start and control runs).
DASHBOARD_VIEWERS_MUST_LOG_IN = env_bool("DASHBOARD_VIEWERS_MUST_LOG_IN", "0")
# Runs one instructor may have queued, running or paused at once (a runaway class of clicks stays bounded).
DASHBOARD_MAX_ACTIVE_RUNS = env_int("DASHBOARD_MAX_ACTIVE_RUNS", 2, minimum=1)
# Runs one instructor may start per minute (a sliding window counted in Redis, so shared by every Daphne):
# a script or a stuck key cannot flood the worker queue. More get 429.
DASHBOARD_RUNS_PER_MINUTE = env_int("DASHBOARD_RUNS_PER_MINUTE", 10, minimum=1)
# The largest cluster a scenario may ask for: Kubernetes' own supported limits by default; lower them on a
# small machine (a 5,000-node run needs a few GiB of memory in the worker).
DASHBOARD_MAX_NODES = env_int("DASHBOARD_MAX_NODES", 5000, minimum=3)
DASHBOARD_MAX_PODS = env_int("DASHBOARD_MAX_PODS", 150000, minimum=1)

# Client-side socket timeout for Redis connections. redis-py 8 defaults to 5 s, which equals
# channels_redis' BZPOPMIN wait (RedisChannelLayer.brpop_timeout = 5): an idle consumer's receive would
# then time out and the WebSocket close with 1011. Every blocking call we make waits less than this.
REDIS_SOCKET_TIMEOUT = 30
# Connections per asyncio pool in a Daphne process (the channel layer's, and the run logs', which waits for a
# free one rather than failing).
REDIS_MAX_CONNECTIONS = 1000
# Built once: redis-py otherwise reads its own package metadata from disk for every new connection (a fifth of
# Daphne's time while a class connects and its pools grow).
REDIS_DRIVER_INFO = DriverInfo()

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py's asyncio pool stops at 100 connections and then raises instead of waiting: a class of 200
        # reconnecting at once gave handshakes a 500. Each concurrent group_add holds one for a moment.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_SOCKET_TIMEOUT,
                              "max_connections": REDIS_MAX_CONNECTIONS, "driver_info": REDIS_DRIVER_INFO}]},
    }
}

# Celery (dashboard/celery.py reads every CELERY_* setting).
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Acknowledged on receipt. A run whose worker dies is found by the reaper (dashboard/tasks.py: its lease
# lapses) and resumed, at most a few times; redelivery by the broker is not needed. And an unacknowledged
# message breaks the worker on a broker outage: kombu 5.7 restores unacked messages while closing the lost
# connection, fails with AttributeError ('NoneType' object has no attribute 'hostname', in
# redis.Channel._connparams) and the worker exits with "Unrecoverable error".
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A run at 0.25x can take minutes; a redelivered message is harmless (the run lock and claim refuse it).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
