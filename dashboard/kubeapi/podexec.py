"""`pods/exec` of the live cluster: `kubectl exec -n kube-system etcd-<node> -- etcdctl ...` runs the lesson's
etcdctl against the simulated etcd (simulator/etcdctl_pod.py).

The protocol is the one kubectl (1.30 and later) and the official Python client speak: a WebSocket upgrade of
GET .../pods/<name>/exec?command=...&container=...&stdout=true&stderr=true with the subprotocol
v5.channel.k8s.io or v4.channel.k8s.io (k8s.io/apimachinery/pkg/util/remotecommand/constants.go). Every
binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 error (the exec's outcome as a
Status: Success, or Failure with reason NonZeroExitCode and the exit code as the ExitCode cause), 4 resize;
v5 adds 255, a client's "close this channel" (k8s.io/apiserver/pkg/util/wsstream, kubelet's
cri/streaming/remotecommand/websocket.go). SPDY, kubectl's older transport, is not served: it gets a 400
saying so.

Authorization is kube-apiserver's: `get` on pods/exec for the GET, and with the WebSocket upgrade also `create`
(the AuthorizePodWebsocketUpgradeCreatePermission gate, on by default since v1.31), so a role without
`create pods/exec` cannot exec - a student's role cannot, the instructor's can.

Only etcdctl in an etcd Pod is modelled (the etcd image has etcd, etcdctl and etcdutl and no shell: any other
program fails as the container runtime fails it, "executable file not found in $PATH"). In any other
container, which the simulator runs without processes or files, a command is refused with a sentence saying so.
"""
from __future__ import annotations

import asyncio
import json
import posixpath
from collections import deque

from aiohttp import WSMsgType, web

from simulator.apiserver import registry
from simulator.apiserver import status as st
from simulator.etcd.mvcc import CompactedError, WatchEvent
from simulator.etcdctl import CommandError
from simulator.etcdctl_pod import PodEtcdctl, parse

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDOUT, STDERR, ERROR = 1, 2, 3
ETCD_PROGRAMS = {"etcd", "etcdctl", "etcdutl"}
UNMODELLED = ("k8s-internals-dashboard: the simulated container {c!r} runs no processes and has no files; "
              "only etcdctl in the etcd Pod is modelled (kubectl exec -n kube-system etcd-<node> -- etcdctl ...)\n")


def _reply(status: dict) -> web.Response:
    from .server import _status   # (server imports this module)

    return _status(status)


def _exit_status(code: int, argv: list[str]) -> dict:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command {argv}, exit code {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _not_found_in_path(cid: str, program: str) -> dict:
    # containerd / runc's answer for a program the image does not have (the kubelet passes it on as an error).
    return st._status(500, "InternalError",
                      f"Internal error occurred: error executing command in container: failed to exec in container: "
                      f"failed to start exec \"{cid[:64]}\": OCI runtime exec failed: exec failed: unable to start "
                      f"container process: exec: \"{program}\": executable file not found in $PATH: unknown", {})


def container_of(pod: dict, name: str, asked: str | None) -> tuple[str, dict, dict | None]:
    """The container a pods/log or pods/exec request means (the only one when none is named), the Pod's
    container statuses by name, and the 400 Status when the name is missing or wrong."""
    containers = [c["name"] for c in pod["spec"].get("containers") or []]
    want = asked or (containers[0] if len(containers) == 1 else "")
    statuses = {c["name"]: c for c in (pod.get("status") or {}).get("containerStatuses") or []}
    if not want:
        return want, statuses, st.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                                              f"[{' '.join(containers)}]")
    if want not in containers:
        return want, statuses, st.bad_request(f"container {want} is not valid for pod {name}")
    return want, statuses, None


async def serve(server, request: web.Request, user, ns: str, name: str, audit_id: str = "",
                entry=None) -> web.StreamResponse:
    """The exec; `entry` is its audit record (the caller completes it for an answer that is not a WebSocket;
    a session is logged at ResponseStarted, once upgraded, and at ResponseComplete when it ends)."""
    live = server.live
    for verb in ("get", "create") if request.method == "GET" else ("create",):
        denied = server._authorized(user, verb, "pods", "exec", ns, name, "", entry)
        if denied:
            return _reply(denied)
    pod = live.cluster.get(registry.key("pods", ns, name))
    if pod is None:
        return _reply(st.not_found("pods", name))
    argv = request.query.getall("command", [])
    if not argv:
        return _reply(st.bad_request("you must specify at least 1 command"))
    want, statuses, refused = container_of(pod, name, request.query.get("container"))
    if refused:
        return _reply(refused)
    state = (statuses.get(want) or {}).get("state") or {}
    if "running" not in state:
        return _reply(st.bad_request(f'container not found ("{want}")'))
    if (request.headers.get("Upgrade") or "").lower() != "websocket":
        return _reply(st.bad_request(
            "this simulated cluster serves exec over WebSocket only (subprotocol v5.channel.k8s.io or "
            "v4.channel.k8s.io, what kubectl 1.30+ uses), not SPDY"))
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True, heartbeat=None)
    if audit_id:
        ws.headers["Audit-Id"] = audit_id
    ready = ws.can_prepare(request)
    if not ready.ok or ready.protocol is None:
        return _reply(st.bad_request(f"unable to upgrade connection: none of the subprotocols "
                                            f"{', '.join(PROTOCOLS)} was requested"))
    await ws.prepare(request)
    server._audit_done(entry, 101, stage="ResponseStarted")
    closed = asyncio.Event()

    async def read() -> None:   # stdin is not used; a close (Ctrl-C in kubectl) ends a watch
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
        finally:
            closed.set()

    reader = asyncio.ensure_future(read())
    try:
        image = next((c.get("image", "") for c in pod["spec"]["containers"] if c["name"] == want), "")
        program = posixpath.basename(argv[0])
        cid = (statuses[want].get("containerID") or "").split("://", 1)[-1]
        if "/etcd:" not in image and not image.startswith("etcd"):
            await _send(ws, STDERR, UNMODELLED.format(c=want).encode())
            await _send(ws, ERROR, json.dumps(_exit_status(126, argv)).encode())
        elif program not in ETCD_PROGRAMS:
            await _send(ws, ERROR, json.dumps(_not_found_in_path(cid, argv[0])).encode())
        elif program != "etcdctl":
            await _send(ws, STDERR, f"k8s-internals-dashboard: {program} is not modelled; etcdctl is\n".encode())
            await _send(ws, ERROR, json.dumps(_exit_status(126, argv)).encode())
        else:
            node = pod["spec"].get("nodeName") or ""
            ip = (pod.get("status") or {}).get("podIP") or "127.0.0.1"
            code = await _etcdctl(server, ws, closed, PodEtcdctl(live.cluster.etcd.store, node, ip), argv[1:])
            if not closed.is_set():
                await _send(ws, ERROR, json.dumps(_exit_status(code, argv)).encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        reader.cancel()
        if not ws.closed:
            await ws.close()
        server._audit_done(entry, 101)
    return ws


async def _send(ws: web.WebSocketResponse, channel: int, data: bytes) -> None:
    if not ws.closed:
        await ws.send_bytes(bytes([channel]) + data)


async def _etcdctl(server, ws, closed: asyncio.Event, ctl: PodEtcdctl, args: list[str]) -> int:
    """Run one etcdctl command; returns its exit code."""
    live = server.live
    try:
        inv = parse(args)
        if not inv.tls and inv.words != ["version"]:   # `etcdctl version` does not connect
            # kubeadm's etcd accepts only TLS clients with a certificate signed by its CA: the handshake fails
            # and etcdctl gives up when its dial timeout runs out.
            try:
                await asyncio.wait_for(closed.wait(), inv.dial_timeout)
            except asyncio.TimeoutError:
                pass
            raise CommandError("context deadline exceeded")
        if inv.words[:1] != ["watch"]:
            live.advance()
            await _send(ws, STDOUT, ctl.run(inv).encode())
            return 0
        spec = ctl.watch_request(inv)
    except CommandError as exc:
        await _send(ws, STDERR, f"Error: {exc}\n".encode())
        return 1
    # watch: the events from the start revision (if any), then every change until the client goes away.
    rev, prev = spec[3], spec[4]
    store = live.cluster.etcd.store
    pending: deque = deque()
    arrived = asyncio.Event()

    def on_event(ev: WatchEvent) -> None:
        if ctl.matches(ev.kv.key, spec):
            pending.append(ev)
            arrived.set()

    live.advance()
    try:
        # From --rev: the changes since then first (a compacted revision fails, as in etcd).
        past = store.watch("", prefix=True, start_revision=rev, callback=on_event)
    except CompactedError:
        await _send(ws, STDERR, b"Error: watch was canceled (etcdserver: mvcc: required revision has been compacted)\n")
        return 1
    pending.extendleft(reversed([ev for ev in past if ctl.matches(ev.kv.key, spec)]))
    server.wake.set()
    gone = asyncio.ensure_future(closed.wait())
    try:
        while True:
            # One watch response per revision (a transaction's writes arrive together).
            while pending:
                batch = [pending.popleft()]
                while pending and pending[0].kv.mod_revision == batch[0].kv.mod_revision:
                    batch.append(pending.popleft())
                await _send(ws, STDOUT, ctl.format_watch(batch, inv, prev).encode())
            arrived.clear()
            waiter = asyncio.ensure_future(arrived.wait())
            await asyncio.wait([waiter, gone], return_when=asyncio.FIRST_COMPLETED)
            if gone.done():
                waiter.cancel()
                break
    finally:
        gone.cancel()
        store.unwatch(on_event)
    return 0

