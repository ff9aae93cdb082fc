"""Probes: pkg/kubelet/prober (worker.go, prober.go, results/) and pkg/probe/{exec,http,tcp}.

One worker per container and probe type. It probes every periodSeconds from the moment the Pod is added,
skips while the container is not running, while initialDelaySeconds have not passed since the container
started (`int32(time.Since(startedAt).Seconds()) < initialDelaySeconds`), and - for liveness and readiness
- while a startup probe has not succeeded yet. A result only counts once it has repeated
successThreshold / failureThreshold times in a row; then the results manager records it and the kubelet is
told when it changed. Each failed probe records an `Unhealthy` Warning event: "<Type> probe failed:
<output>" (prober.go). After a liveness or startup failure the worker is on hold until the container is
replaced (a new container ID).

Initial results (worker.go newWorker): readiness Failure, liveness Success, startup Unknown.
Defaults (pkg/apis/core/v1/defaults.go SetDefaults_Probe): timeoutSeconds 1, periodSeconds 10,
successThreshold 1, failureThreshold 3; initialDelaySeconds 0.

How a probe is evaluated here:
- exec: the command runs in the container (runtime.exec_sync) against its files; exit 0 is Success,
  else Failure with the command's output; longer than timeoutSeconds: Failure `command "..." timed out`.
- httpGet / tcpSocket: the container's process must be running and listening on the port (the server
  program's ports, or a port the container declares in spec.containers[].ports). An HTTP server answers
  200 (agnhost liveness: 200 for 10 s, then 500); 200-399 is Success. Otherwise the Go error texts:
  `Get "http://IP:PORT/PATH": dial tcp IP:PORT: connect: connection refused`,
  `HTTP probe failed with statuscode: 500`, `dial tcp IP:PORT: connect: connection refused`.
"""
from __future__ import annotations

from dataclasses import dataclass

SUCCESS, FAILURE, UNKNOWN = "Success", "Failure", "Unknown"
TYPES = ("startup", "liveness", "readiness")
LABEL = {"liveness": "Liveness", "readiness": "Readiness", "startup": "Startup"}
INITIAL = {"readiness": FAILURE, "liveness": SUCCESS, "startup": UNKNOWN}


def defaults(probe: dict) -> dict:
    p = dict(probe)
    for k, v in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3),
                 ("initialDelaySeconds", 0)):
        if not p.get(k):
            p[k] = v
    return p


def resolve_port(port, container: dict) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def run_probe(probe: dict, runtime, cid: str, container: dict, pod_ip: str, now: float) -> tuple[str, str]:
    """(result, output) of one probe against the container."""
    c = runtime.containers.get(cid)
    if "exec" in probe:
        cmd = list((probe["exec"] or {}).get("command") or [])
        code, out, timed_out = runtime.exec_sync(cid, cmd, float(probe["timeoutSeconds"]))
        if timed_out:
            return FAILURE, f'command "{" ".join(cmd)}" timed out'
        return (SUCCESS, out) if code == 0 else (FAILURE, out)
    if "httpGet" in probe:
        h = probe["httpGet"] or {}
        port = resolve_port(h.get("port"), container)
        host = h.get("host") or pod_ip
        scheme = (h.get("scheme") or "HTTP").lower()
        path = h.get("path") or "/"
        if not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{host}:{port}{path}"
        if c is None or port is None or port not in c.listening():
            return FAILURE, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
        code = c.http_status(now, port, path)
        if 200 <= code < 400:
            return SUCCESS, ""
        return FAILURE, f"HTTP probe failed with statuscode: {code}"
    if "tcpSocket" in probe:
        t = probe["tcpSocket"] or {}
        port = resolve_port(t.get("port"), container)
        host = t.get("host") or pod_ip
        if c is None or port is None or port not in c.listening():
            return FAILURE, f"dial tcp {host}:{port}: connect: connection refused"
        return SUCCESS, ""
    if "grpc" in probe:
        port = (probe["grpc"] or {}).get("port")
        if c is None or port not in c.listening():
            return FAILURE, f'timeout: failed to connect service "{pod_ip}:{port}" within {probe["timeoutSeconds"]}s'
        return SUCCESS, ""
    return UNKNOWN, "missing probe handler"


@dataclass
class Worker:
    """worker.go: the state of one probe of one container."""
    kind: str
    container: str
    spec: dict
    container_id: str = ""
    result: str = ""
    last_result: str = UNKNOWN
    result_run: int = 0
    on_hold: bool = False
    token: int = 0

    def __post_init__(self):
        self.spec = defaults(self.spec)
        self.result = INITIAL[self.kind]

    def reset_for(self, cid: str) -> None:
        self.container_id = cid
        self.result = INITIAL[self.kind]
        self.last_result, self.result_run, self.on_hold = UNKNOWN, 0, False

    def record(self, result: str) -> bool:
        """Count the result against the thresholds; True when it becomes the worker's result (it may be
        the same as before)."""
        if self.last_result == result:
            self.result_run += 1
        else:
            self.last_result, self.result_run = result, 1
        if (result == FAILURE and self.result_run < self.spec["failureThreshold"]) or \
                (result == SUCCESS and self.result_run < self.spec["successThreshold"]):
            return False
        self.result = result
        if self.kind in ("liveness", "startup") and result == FAILURE:
            # The container will be restarted: stop probing it until it is replaced.
            self.on_hold = True
            self.result_run = 0
        return True
