"""The etcd keys of a real cluster, watched the lesson's way: `etcdctl watch /registry/ --prefix -w json` run in
the etcd Pod through `pods/exec` (kubeadm's etcd Pod, label component=etcd in kube-system, with the client
certificate kubeadm writes for health checks). What etcd itself reports - each key's create_revision,
mod_revision and version, PUT or DELETE - is then known exactly, instead of being inferred from the API
server's watch.

A thread reads the exec's stdout (etcdctl's JSON printer: one WatchResponse per line, Go field names,
base64 keys; simulator/etcdctl_pod.py describes the format) and puts (TAP, type, key, create_revision,
mod_revision, version) on the run's queue. The values are not used: a real kube-apiserver stores
protobuf, and the run already has every object from the API server's watch; the two are joined on
(key, mod_revision) in run.py.

The exec needs `create` on pods/exec in kube-system (a cluster admin has it). When it is refused, or the
cluster has no etcd Pod (a managed control plane), the run goes on with revisions from the API server's
watch and says so.
"""
from __future__ import annotations

import base64
import json
import logging
import threading

from .connect import ClusterUnavailable, Connection, describe

log = logging.getLogger(__name__)

TAP = "etcd:tap"
PROGRESS = "REV"   # a queue item saying etcdctl has reported everything up to a revision
PKI = "/etc/kubernetes/pki/etcd/"
FLAGS = ["--endpoints=https://127.0.0.1:2379", f"--cacert={PKI}ca.crt", f"--cert={PKI}healthcheck-client.crt",
         f"--key={PKI}healthcheck-client.key"]
OPEN_WAIT_S = 0.5   # an error (refused, no certificate) comes at once; a watch that works says nothing yet


def command(prefix: str, start_revision: int) -> list[str]:
    return ["etcdctl", "watch", prefix, "--prefix", f"--rev={start_revision}", "-w", "json", *FLAGS]


class EtcdTap:
    def __init__(self, conn: Connection, pod: str, out, wanted, start_revision: int):
        """`out`: the run's queue; `wanted(key)`: whether a key matters to the run (the others - Leases renewed
        every few seconds, other namespaces - are dropped here)."""
        self.conn, self.pod, self.out, self.wanted = conn, pod, out, wanted
        self.start_revision = start_revision
        self.revision = 0            # the newest revision etcdctl has reported
        self.failed: str | None = None
        self._stop = threading.Event()
        self._ws = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Start etcdctl in the etcd Pod; raises ClusterUnavailable when that is refused or fails at once."""
        from kubernetes import client
        from kubernetes.stream import stream

        # A client of its own: stream() swaps the ApiClient's request method while it connects, which the
        # watch threads sharing the run's client must never see.
        api = client.CoreV1Api(client.ApiClient(self.conn.client.configuration))
        try:
            ws = stream(api.connect_get_namespaced_pod_exec, self.pod, "kube-system",
                        command=command("/registry/", self.start_revision), container="etcd",
                        stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
                        _request_timeout=self.conn.timeout)
        except Exception as exc:
            raise ClusterUnavailable(f"etcdctl in {self.pod}: {describe(exc, self.conn.context)}") from None
        # etcdctl prints nothing until something changes; an error (no certificate, refused) comes at once.
        ws.update(timeout=OPEN_WAIT_S)
        for _ in range(3):   # what came with it (stderr, then the exec's Status)
            ws.update(timeout=0.05)
        err, status = ws.read_stderr(timeout=0), ws.read_channel(3, timeout=0)
        if err or status or not ws.is_open():
            ws.close()
            if not err and status:
                try:
                    err = json.loads(status).get("message") or ""
                except (ValueError, AttributeError):
                    err = ""
            raise ClusterUnavailable(f"etcdctl in {self.pod} could not watch: "
                                     f"{(err or 'the exec ended at once').strip()[:200]}")
        self._ws = ws
        self._thread = threading.Thread(target=self._read, name=f"etcdtap-{self.pod}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        ws, buf = self._ws, ""
        try:
            while not self._stop.is_set() and ws.is_open():
                ws.update(timeout=0.5)
                buf += ws.read_stdout(timeout=0) or ""
                *lines, buf = buf.split("\n")
                for line in lines:
                    if line.strip():
                        self._response(line)
            if not self._stop.is_set():
                self.failed = "the etcdctl watch ended"
        except Exception as exc:   # a lost connection: the run falls back to the API server's revisions
            if not self._stop.is_set():
                self.failed = f"the etcdctl watch broke ({type(exc).__name__})"
                log.info("etcd tap on %s: %s", self.pod, self.failed)

    def _response(self, line: str) -> None:
        try:
            resp = json.loads(line)
        except ValueError:
            return
        rev = int((resp.get("Header") or {}).get("revision") or 0)
        for ev in resp.get("Events") or []:
            kv = ev.get("kv") or {}
            try:
                key = base64.b64decode(kv.get("key", "")).decode("utf-8", "replace")
            except ValueError:
                continue
            mod = int(kv.get("mod_revision") or 0)
            rev = max(rev, mod)
            if not self.wanted(key):
                continue
            typ = "DELETE" if ev.get("type") in (1, "DELETE") else "PUT"
            self.out.put((TAP, typ, key, int(kv.get("create_revision") or 0), mod, int(kv.get("version") or 0)))
        # After the events: the consumer, reading in order, then knows every report up to `rev` has arrived.
        if rev > self.revision:
            self.revision = rev
            self.out.put((TAP, PROGRESS, "", 0, rev, 0))

    def stop(self) -> None:
        self._stop.set()
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:
                pass
        if self._thread is not None:
            self._thread.join(timeout=2)
