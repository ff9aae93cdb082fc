"""The container runtime on a node (containerd behind the CRI): image store, pod sandboxes with the CNI
plugin, containers and the processes in them. A state machine the kubelet drives; the kubelet owns the
timing of its own calls and the Kubernetes events. Processes run on the simulation's clock: a container's
process exits when its program does, or when it is killed, and the runtime tells its listener (the
kubelet's PLEG) through `on_exit`.

Container states are the CRI's: CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_EXITED.
"""
from __future__ import annotations

import ipaddress
import math
import posixpath
import random
from dataclasses import dataclass, field
from typing import Callable

from .. import ids
from . import images
from .process import FileSystem, Program, Shell, program_for

COMPONENT = "container-runtime"

SIGTERM, SIGQUIT, SIGKILL = 15, 3, 9
# STOPSIGNAL of the images that set one (nginx's Dockerfile: STOPSIGNAL SIGQUIT).
STOP_SIGNALS = {"docker.io/library/nginx": SIGQUIT}


class StartError(Exception):
    """StartContainer failed (runc could not exec the process)."""


@dataclass(slots=True)   # one per container: 150,000 in a large run
class Container:
    id: str
    pod_uid: str
    name: str
    image: str
    argv: list[str]
    declared_ports: tuple[int, ...]
    state: str = "CONTAINER_CREATED"
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    fs: FileSystem = field(default_factory=FileSystem)
    log: list[tuple[float, str, str]] = field(default_factory=list)   # (t, stream, line)
    program: Program | None = None
    signalled: int = 0
    _gen: object = None
    _token: int = 0
    _stop_waiters: list = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.state == "CONTAINER_RUNNING"

    def listening(self) -> set[int]:
        """The ports a probe can connect to while the process runs: the server program's ports, and the
        ports the container declares (spec.containers[].ports) - the simulator assumes a container listens
        on what it declares, as the documentation's examples do."""
        if not self.running:
            return set()
        ports = set(self.declared_ports)
        if self.program is not None and self.program.server is not None:
            ports |= set(self.program.server.ports)
        return ports

    def http_status(self, now: float, port: int, path: str) -> int:
        srv = self.program.server if self.program else None
        if srv is not None and srv.http is not None:
            return srv.http(now - (self.started_at or now), port, path)
        return 200


def container_argv(spec: dict, image: str) -> list[str]:
    """Docker/OCI rules as the kubelet applies them: command replaces ENTRYPOINT, args replace CMD."""
    repo = images.repository(image)
    entry = list(repo.entrypoint) if repo else []
    cmd = list(repo.cmd) if repo else []
    command, args = spec.get("command"), spec.get("args")
    if command:
        return list(command) + list(args or [])
    if args:
        return entry + list(args)
    return entry + cmd


class ContainerRuntime:
    def __init__(self, node: str, pod_cidr: str, rng: random.Random, preloaded: list[str] = ()):
        self.node = node
        self.rng = rng
        self.env = None                                  # set by the kubelet (the runtime runs processes on its clock)
        self.pod_cidr = ipaddress.ip_network(pod_cidr)
        self.images: dict[str, int] = {}
        for img in preloaded:
            self.images[images.canonical(img)] = images.size_of(img)
        # host-local IPAM hands out addresses in order from the node's podCIDR (.1 is the gateway), from
        # the last one it reserved onwards, wrapping round; a released address is reused only after that.
        self._next_host = 2
        self._used: set[str] = set()
        self.sandboxes: dict[str, dict] = {}
        self.containers: dict[str, Container] = {}
        self.on_exit: Callable[[Container], None] | None = None

    # ---- images (ImageService) --------------------------------------------------------------------------
    def has_image(self, image: str) -> bool:
        return images.canonical(image) in self.images

    def pull_time(self, image: str) -> float:
        """Seconds to pull: resolving the manifest at the registry, then the layers. Layers already in the
        content store are not downloaded again (a re-pull of the same tag only resolves the manifest)."""
        resolve = self.rng.uniform(0.35, 0.7)
        if self.has_image(image) or images.resolve(image) is not None:
            return resolve  # nothing to download (or the registry said no)
        bandwidth = self.rng.uniform(20e6, 32e6)  # bytes/s, a good office or classroom link
        unpack = images.size_of(image) / self.rng.uniform(150e6, 250e6)
        return resolve + images.size_of(image) / bandwidth + unpack

    def pull_error(self, image: str) -> str | None:
        """The error PullImage returns (as the kubelet sees it through gRPC), or None."""
        err = images.resolve(image)
        if err is None:
            return None
        code, desc = err
        return f"rpc error: code = {code} desc = {desc}"

    def pull_image(self, image: str) -> int:
        size = images.size_of(image)
        self.images[images.canonical(image)] = size
        return size

    def image_list(self) -> list[tuple[str, int]]:
        return sorted(self.images.items(), key=lambda kv: (-kv[1], kv[0]))

    # ---- sandboxes (RuntimeService.RunPodSandbox / StopPodSandbox) + CNI ADD / DEL -------------------------
    def _allocate_ip(self) -> str:
        size = self.pod_cidr.num_addresses - 2
        for _ in range(size):
            host = self._next_host
            self._next_host = 2 if self._next_host + 1 > size else self._next_host + 1
            ip = str(self.pod_cidr.network_address + host)
            if ip not in self._used:
                self._used.add(ip)
                return ip
        raise RuntimeError(f"no IP addresses available in range set: {self.pod_cidr}")

    def run_pod_sandbox(self, pod_uid: str, host_network: bool = False, host_ip: str = "") -> dict:
        ip = host_ip if host_network else self._allocate_ip()
        sb = {"id": ids.hex_id(self.rng), "ip": ip, "host_network": host_network, "ready": True}
        self.sandboxes[pod_uid] = sb
        return sb

    def stop_pod_sandbox(self, pod_uid: str) -> dict | None:
        """StopPodSandbox + RemovePodSandbox: the CNI DEL gives the address back to host-local IPAM."""
        sb = self.sandboxes.pop(pod_uid, None)
        if sb is not None and not sb.get("host_network"):
            self._used.discard(sb["ip"])
        return sb

    # ---- containers (RuntimeService.CreateContainer / StartContainer / StopContainer) --------------------
    def create_container(self, pod_uid: str, name: str, image: str, spec: dict | None = None) -> str:
        cid = ids.hex_id(self.rng)
        spec = spec or {}
        ports = tuple(p["containerPort"] for p in spec.get("ports") or [] if isinstance(p.get("containerPort"), int))
        c = Container(cid, pod_uid, name, image, container_argv(spec, image), ports,
                      created_at=self.env.now if self.env else 0.0)
        self.containers[cid] = c
        return cid

    def start_container(self, cid: str) -> None:
        """Start the process. Raises StartError when the executable is not in the image."""
        c = self.containers[cid]
        prog = program_for(c.argv)
        c.program = prog
        now = self.env.now if self.env else 0.0
        if prog.kind == "missing":
            c.state = "CONTAINER_EXITED"
            c.exit_code, c.reason = 128, "StartError"
            c.message = (f'failed to create containerd task: failed to create shim task: OCI runtime create failed: '
                         f'runc create failed: unable to start container process: error during container init: '
                         f'exec: "{prog.missing}": executable file not found in $PATH: unknown')
            c.started_at = c.finished_at = now
            raise StartError(c.message)
        c.state = "CONTAINER_RUNNING"
        c.started_at = now
        if prog.kind == "server":
            for line in prog.server.logs:
                c.log.append((now, "stdout", line))
            c._gen = _forever()
        else:
            sh = Shell(c.fs, lambda stream, line, c=c: c.log.append((self.env.now, stream, line)), lambda: self.env.now)
            c._gen = sh.run(prog.tree)
        # The process runs once StartContainer has returned (its first output cannot precede "started").
        token = c._token
        self.env.schedule(0.0, lambda: self._wake(c, token))

    def adopt_container(self, pod_uid: str, name: str, image: str, spec: dict, started_at: float,
                        known_id: str | None = None) -> str:
        """A container that was already running when the simulation began (the bootstrapped Pods), under the
        ID its Pod's status reports (`known_id`) when there is one."""
        cid = self.create_container(pod_uid, name, image, spec)
        c = self.containers[cid]
        if known_id:
            del self.containers[cid]
            cid = c.id = known_id
            self.containers[cid] = c
        c.created_at = started_at
        prog = program_for(c.argv)
        if prog.kind != "server":  # a system Pod's process is a daemon whatever its argv looks like
            prog = Program("server", server=program_for(["pause"]).server)
        c.program = prog
        c.state, c.started_at, c._gen = "CONTAINER_RUNNING", started_at, _forever()
        next(c._gen)
        return cid

    def _advance(self, c: Container, _value) -> None:
        """Run the process until it sleeps or exits."""
        try:
            delay = c._gen.send(None) if c._gen is not None else None
        except StopIteration as stop:
            self._exited(c, int(stop.value or 0))
            return
        c._token += 1
        if delay is None or math.isinf(delay):
            return  # sleeps until killed
        token = c._token
        self.env.schedule(max(0.0, float(delay)), lambda: self._wake(c, token))

    def _wake(self, c: Container, token: int) -> None:
        if c.running and c._token == token:
            self._advance(c, None)

    def _exited(self, c: Container, code: int, reason: str | None = None) -> None:
        if not c.running:
            return
        c.state = "CONTAINER_EXITED"
        c._token += 1
        if c._gen is not None:
            c._gen.close()
            c._gen = None
        c.exit_code = code
        c.finished_at = self.env.now
        c.reason = reason or ("Completed" if code == 0 else "Error")
        waiters, c._stop_waiters = c._stop_waiters, []
        for fut in waiters:
            fut.resolve(c)
        if self.on_exit is not None:
            self.on_exit(c)

    def stop_container(self, cid: str, grace: float):
        """StopContainer(timeout=grace): the image's stop signal, then SIGKILL when the grace period ends.
        Returns a Future resolving with the container once it has exited."""
        c = self.containers[cid]
        fut = self.env.future()
        if not c.running:
            fut.resolve(c)
            return fut
        c._stop_waiters.append(fut)
        if c.signalled:
            return fut
        repo = images.split(c.image)[0]
        c.signalled = STOP_SIGNALS.get(repo, SIGTERM)
        prog = c.program
        if prog is not None and prog.kind == "server":
            # A server handles the signal: it shuts down and exits 0 (nginx's SIGQUIT: graceful shutdown).
            delay = prog.server.stop_delay * self.rng.uniform(0.5, 1.5)
            if delay < grace:
                token = c._token
                self.env.schedule(delay, lambda: c._token == token and self._exited(c, 0))
                return fut
        # PID 1 without a handler (a shell, sleep): the signal is ignored; SIGKILL at the deadline.
        self.env.schedule(max(0.0, grace), lambda: self._exited(c, 128 + SIGKILL))
        return fut

    def remove_container(self, cid: str) -> None:
        self.containers.pop(cid, None)

    # ---- exec (RuntimeService.ExecSync), for exec probes ---------------------------------------------
    def exec_sync(self, cid: str, argv: list[str], timeout: float) -> tuple[int, str, bool]:
        """Run argv in the container, synchronously (it sees and changes the container's files).
        Returns (exit code, combined output, timed out)."""
        c = self.containers[cid]
        prog = program_for(argv)
        if prog.kind == "missing":
            return (126 if "/" in prog.missing else 127,
                    f'OCI runtime exec failed: exec failed: unable to start container process: exec: "{prog.missing}": '
                    f'executable file not found in $PATH: unknown', False)
        if prog.kind == "server":
            return 0, "", True  # a server in a probe never returns
        out: list[str] = []
        sh = Shell(c.fs, lambda _s, line: out.append(line), lambda: self.env.now)
        gen = sh.run(prog.tree)
        spent = 0.0
        try:
            while True:
                spent += float(next(gen))
                if spent >= timeout:
                    gen.close()
                    return 0, "\n".join(out), True
        except StopIteration as stop:
            return int(stop.value or 0), "\n".join(out), False

    def logs(self, cid: str) -> list[str]:
        return [line for _t, _s, line in self.containers[cid].log]


def _forever():
    yield math.inf


def basename(path: str) -> str:
    return posixpath.basename(path)
