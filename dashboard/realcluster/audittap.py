"""A real cluster's API server audit log, followed while a scenario runs (issue 6, item 7).

`make kind-up` makes the lessons' cluster with the audit log on (kind/cluster.yaml, kind/audit-policy.yaml):
kube-apiserver writes one audit.k8s.io/v1 Event per line to /var/log/kubernetes/kube-apiserver-audit.log on
the control-plane node. The kubelet serves that node's /var/log at /logs/ (a Go http.FileServer), and the API
server proxies to it: GET /api/v1/nodes/<node>/proxy/logs/kubernetes/kube-apiserver-audit.log with a
`Range: bytes=<offset>-` header returns only what was written since the last read (206), or 416 when
nothing was (its Content-Range, `bytes */<size>`, tells a log that was rotated and began again). No Docker
is needed, only `get nodes/proxy` (a cluster admin has it).

A thread reads every POLL_S seconds. Events about the run's namespace go to the run's queue as
(AUDIT, event); the events of the run's own requests are also kept by auditID (the response's Audit-Id
header), so the run can show the API server's answer with what the log says happened inside it (the user
authenticated, the authorizer's decision and reason, what admission and defaults changed).
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time

from .connect import ClusterUnavailable, Connection, describe

log = logging.getLogger(__name__)

AUDIT = "audit"
LOG_PATH = "kubernetes/kube-apiserver-audit.log"   # under the node's /var/log (kind/cluster.yaml)
POLL_S = 0.2
MAX_READ = 4 * 1024 * 1024   # one read at most; the rest comes with the next
_TOTAL = re.compile(r"/(\d+)\s*$")
WRITES = ("create", "update", "patch", "delete", "deletecollection")   # the verbs that change objects


class AuditTap:
    def __init__(self, conn: Connection, node: str, out, wanted, agent: str):
        """`out`: the run's queue; `wanted(event)`: whether an audit event concerns the run; `agent`: the
        User-Agent of the run's own requests (their events are kept for claim(), never queued)."""
        self.conn, self.node, self.out, self.wanted, self.agent = conn, node, out, wanted, agent
        self.path = f"/api/v1/nodes/{node}/proxy/logs/{LOG_PATH}"
        self.offset = 0
        self.failed: str | None = None
        # When the newest read that is done began (time.monotonic()): whatever the API server had written by
        # then is on the run's queue.
        self.read_from = 0.0
        self.own: dict[str, dict] = {}      # auditID -> the ResponseComplete event of one of the run's requests
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading --------------------------------------------------------------------------------------

    def _get(self, first: int, last: int | None = None) -> tuple[int, bytes, int | None]:
        """(status, body, the file's size from Content-Range) of one ranged read (any status: the caller
        decides; a transport failure raises)."""
        from kubernetes.client.exceptions import ApiException

        api = self.conn.client
        rng = f"bytes={first}-" + ("" if last is None else str(last))
        method, url, headers, _, _ = api.param_serialize("GET", self.path, header_params={"Range": rng, "Accept": "*/*"},
                                                        auth_settings=["BearerToken"])
        resp = api.call_api(method, url, header_params=headers, _request_timeout=self.conn.timeout)
        body = resp.read() or b""
        if resp.status not in (206, 416):
            raise ApiException(status=resp.status, reason=resp.reason)
        m = _TOTAL.search(resp.headers.get("Content-Range", "") or "")
        return resp.status, body, int(m.group(1)) if m else None

    def open(self) -> None:
        """Find the log's end (the run follows what is written from now on); raises ClusterUnavailable when
        there is no log to follow or reading it is refused."""
        from kubernetes.client.exceptions import ApiException

        try:
            status, _, size = self._get(0, 0)
        except ApiException as exc:
            if exc.status == 404:
                raise ClusterUnavailable(f"node {self.node} has no {LOG_PATH} in /var/log (a cluster made without "
                                         "the project's audit policy: see make kind-up)") from None
            raise ClusterUnavailable(f"the audit log on node {self.node}: {describe(exc, self.conn.context)}") from None
        except Exception as exc:
            raise ClusterUnavailable(f"the audit log on node {self.node}: {describe(exc, self.conn.context)}") from None
        if size is None:
            raise ClusterUnavailable(f"the audit log on node {self.node} cannot be read in ranges (answer {status})")
        self.offset = size
        self._thread = threading.Thread(target=self._follow, name=f"audittap-{self.node}", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        rest = b""
        errors = 0
        while not self._stop.wait(POLL_S):
            began = time.monotonic()
            try:
                status, body, size = self._get(self.offset, self.offset + MAX_READ - 1)
            except Exception as exc:
                errors += 1
                if errors >= 3:   # one lost read is retried; three in a row: the run goes on without the log
                    self.failed = f"the audit log could not be read ({describe(exc, self.conn.context)})"
                    log.info("audit tap on %s: %s", self.node, self.failed)
                    with self._cv:
                        self._cv.notify_all()
                    return
                continue
            errors = 0
            if status == 416:
                if size is not None and size < self.offset:   # rotated: a new file from its beginning
                    self.offset, rest = 0, b""
                    continue
                self.read_from = began
                continue
            self.offset += len(body)
            *lines, rest = (rest + body).split(b"\n")
            for line in lines:
                if line.strip():
                    self._event(line)
            if size is None or self.offset >= size:   # (a read cut at MAX_READ is not the end yet)
                self.read_from = began

    def _event(self, line: bytes) -> None:
        try:
            ev = json.loads(line)
        except ValueError:
            return
        if not isinstance(ev, dict) or ev.get("stage") != "ResponseComplete":
            return
        if ev.get("userAgent") == self.agent:
            if ev.get("verb") in WRITES:   # (not the run's lists and watches)
                with self._cv:
                    self.own[ev.get("auditID")] = ev
                    while len(self.own) > 1000:   # never claimed (an answer lost on the way)
                        del self.own[next(iter(self.own))]
                    self._cv.notify_all()
            return
        if self.wanted(ev):
            self.out.put((AUDIT, ev))

    # -- the run's own requests ---------------------------------------------------------------------------

    def claim(self, audit_id: str, seconds: float) -> dict | None:
        """The audit event of one of the run's requests (its Audit-Id), waiting for it up to `seconds`."""
        until = time.monotonic() + seconds
        with self._cv:
            while audit_id not in self.own and self.failed is None:
                left = until - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            return self.own.pop(audit_id, None)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
