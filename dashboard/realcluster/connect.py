"""The `api` backend's connection to a real cluster: a kubeconfig and context read in the worker, the official
`kubernetes` client, and errors that say what went wrong without repeating anything from the kubeconfig.

Secrets rule (DESIGN.md, "Roles and safety"): the kubeconfig's server address, tokens, certificates and user
names never reach an event, a page, an error message or a log line. Every failure here is turned into one of
a few fixed sentences (`ClusterUnavailable`), chosen by the kind of failure, not by the exception's text
(urllib3's and the client's messages quote the server address, and an ApiException quotes headers).
"""
from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass

from django.conf import settings

log = logging.getLogger(__name__)


class ClusterUnavailable(Exception):
    """The real cluster cannot be used; `str()` is safe to show (no address, no credential)."""


@dataclass
class Connection:
    client: object           # kubernetes.client.ApiClient
    context: str
    timeout: tuple[float, float]

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass


def describe(exc: BaseException, context: str) -> str:
    """A fixed sentence for a failure of a request to the cluster of `context`."""
    from kubernetes.client.exceptions import ApiException
    from urllib3 import exceptions as u3

    where = f"the cluster of kubeconfig context {context!r}"
    if isinstance(exc, ApiException):
        code = exc.status or 0
        if code == 401:
            return f"{where} refused the kubeconfig's credentials (401 Unauthorized)"
        if code == 403:
            return f"{where} does not allow this (403 Forbidden)"
        if code:
            return f"{where} answered {code} {exc.reason or ''}".rstrip()
        # status 0: the client wraps transport errors in ApiException too
        return f"{where} could not be reached"
    if isinstance(exc, (u3.NewConnectionError, ConnectionRefusedError)):
        # (before the timeouts: urllib3's NewConnectionError is a subclass of ConnectTimeoutError)
        return f"{where} could not be reached: connection refused or no route"
    if isinstance(exc, (u3.ReadTimeoutError, u3.ConnectTimeoutError, TimeoutError)):
        return f"{where} did not answer within {settings.DASHBOARD_API_TIMEOUT} s"
    if isinstance(exc, u3.SSLError) or isinstance(exc, ssl.SSLError):
        return f"{where} could not be reached: TLS failed (the certificate does not match the kubeconfig's CA)"
    if isinstance(exc, u3.MaxRetryError):
        return describe(exc.reason, context) if exc.reason is not None else f"{where} could not be reached"
    if isinstance(exc, (u3.ProtocolError, ConnectionError, OSError, u3.HTTPError)):
        return f"{where} could not be reached: the connection was lost"
    return f"{where} could not be used ({type(exc).__name__})"


def connect() -> Connection:
    """Load the configured kubeconfig and context into a fresh ApiClient (raises ClusterUnavailable)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    path, context = settings.DASHBOARD_API_KUBECONFIG, settings.DASHBOARD_API_CONTEXT
    if not path.is_file():
        raise ClusterUnavailable(
            "no kubeconfig for the real cluster: the file named by DASHBOARD_API_KUBECONFIG (default "
            "~/.kube/config) does not exist on the worker's machine; `make kind-up` creates a cluster and writes it")
    try:
        import yaml

        doc = yaml.safe_load(path.read_text())
        contexts = {c.get("name") for c in (doc or {}).get("contexts") or [] if isinstance(c, dict)}
    except Exception:
        raise ClusterUnavailable("the kubeconfig could not be read: it is not a kubeconfig YAML file") from None
    if context not in contexts:
        raise ClusterUnavailable(f"the kubeconfig has no context {context!r} (set DASHBOARD_API_CONTEXT)")
    cfg = client.Configuration()
    try:
        config.load_kube_config(config_file=str(path), context=context, client_configuration=cfg,
                                persist_config=False)
    except ConfigException:
        raise ClusterUnavailable(f"the kubeconfig's context {context!r} could not be loaded: it is incomplete or "
                                 "uses an authentication method this backend does not support") from None
    except Exception as exc:
        raise ClusterUnavailable(f"the kubeconfig could not be read ({type(exc).__name__})") from None
    # No urllib3 retries: a failure surfaces at once (and urllib3's retry warnings would log the address).
    cfg.retries = False
    t = float(settings.DASHBOARD_API_TIMEOUT)
    return Connection(client.ApiClient(cfg), context, (min(t, 5.0), t))


def probe(conn: Connection) -> None:
    """The API server answers /version, and this user may create namespaces (each run makes its own)."""
    from kubernetes import client

    try:
        client.VersionApi(conn.client).get_code(_request_timeout=conn.timeout)
        review = client.AuthorizationV1Api(conn.client).create_self_subject_access_review(
            client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(verb="create", resource="namespaces"))),
            _request_timeout=conn.timeout)
    except Exception as exc:
        raise ClusterUnavailable(describe(exc, conn.context)) from None
    if not (review.status and review.status.allowed):
        raise ClusterUnavailable(f"the user of kubeconfig context {conn.context!r} may not create namespaces; "
                                 "each run on a real cluster works in a namespace of its own")


def check(scenario: str = "") -> str:
    """'' when a run of `scenario` could start on the real cluster now, else the reason (for the preflight):
    the cluster answers, and whatever else the scenario's driver needs is there (its `preflight`)."""
    try:
        conn = connect()
    except ClusterUnavailable as exc:
        return str(exc)
    try:
        probe(conn)
        if scenario:
            from .scenarios import DRIVERS

            extra = getattr(DRIVERS.get(scenario), "preflight", None)
            if extra is not None:
                extra(conn)
        return ""
    except ClusterUnavailable as exc:
        return str(exc)
    finally:
        conn.close()
