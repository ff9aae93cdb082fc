"""Kubeconfig files for the live cluster: one per ClusterAccess, with a fresh token each time one is made.

The cluster and context are named after the lessons' kind cluster (`kind-challenge-cluster` is what
`kind create cluster --name challenge-cluster` writes), with `-sim` added so a student's own kind cluster
and the classroom's simulated one never overwrite each other in a merged kubeconfig.
"""
from __future__ import annotations

import base64
import re
import secrets
import socket

import yaml
from django.conf import settings
from django.db import transaction

from ..models import ClusterAccess
from .access import NAME_RE, token_hash
from .pki import Pki, default_hosts

CONTEXT = "kind-challenge-cluster-sim"


class AccessError(ValueError):
    pass


def public_host() -> str:
    if settings.KUBEAPI_PUBLIC_HOST:
        return settings.KUBEAPI_PUBLIC_HOST
    return socket.gethostname() if settings.KUBEAPI_BIND in ("0.0.0.0", "::") else "localhost"


def pki() -> Pki:
    """The cluster's CA and serving certificate, made on first use (covering public_host())."""
    p = Pki(settings.KUBEAPI_DIR)
    p.ensure(default_hosts([public_host(), *settings.KUBEAPI_HOSTS]))
    return p


def issue(name: str, role: str, user=None) -> tuple[ClusterAccess, str]:
    """Create or re-issue `name`'s access with a new token (the old one stops working), tied to the dashboard
    account `user` when given. Returns the row and the kubeconfig text (the only place the token ever appears)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise AccessError("name must be 1-40 lowercase letters, digits or '-', starting and ending with a letter "
                          "or digit (it names the student's namespace, student-<name>)")
    if role not in (ClusterAccess.INSTRUCTOR, ClusterAccess.STUDENT, ClusterAccess.VIEWER):
        raise AccessError("role must be instructor, student or viewer")
    token = secrets.token_urlsafe(32)
    fields = {"role": role, "token_sha256": token_hash(token)}
    if user is not None:
        fields["user"] = user
    with transaction.atomic():
        access, _ = ClusterAccess.objects.update_or_create(name=name, defaults=fields)
    return access, render(access, token)


def issue_for_user(user, role: str) -> tuple[ClusterAccess, str]:
    """A kubeconfig for a dashboard account (the page's download): named after the user name, made safe for a
    namespace; a name another access already has gets the account's id added. A new token each time."""
    existing = ClusterAccess.objects.filter(user=user).first()
    if existing is not None:
        name = existing.name
    else:
        base = re.sub(r"[^a-z0-9-]+", "-", user.get_username().lower()).strip("-")[:30].strip("-") or "user"
        name = base
        if ClusterAccess.objects.filter(name=name).exists():
            name = f"{base}-{user.pk}"
    return issue(name, role, user)


def render(access: ClusterAccess, token: str) -> str:
    ca = base64.b64encode(pki().ca_pem()).decode()
    server = f"https://{public_host()}:{settings.KUBEAPI_PORT}"
    user = f"{access.name}@{CONTEXT}"
    context = {"cluster": CONTEXT, "user": user}
    if access.namespace:
        context["namespace"] = access.namespace
    doc = {"apiVersion": "v1", "kind": "Config", "preferences": {},
           "clusters": [{"name": CONTEXT, "cluster": {"server": server, "certificate-authority-data": ca}}],
           "users": [{"name": user, "user": {"token": token}}],
           "contexts": [{"name": CONTEXT, "context": context}], "current-context": CONTEXT}
    return yaml.safe_dump(doc, sort_keys=False)
