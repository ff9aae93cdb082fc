"""What runs inside a container: an honest, deterministic model of the container's main process.

The argv is Kubernetes' (pkg/kubelet/kuberuntime/kuberuntime_container.go + the OCI image config):
`command` replaces the image's ENTRYPOINT, `args` its CMD; `args` alone keep the ENTRYPOINT.

What the argv does:
- a shell (`sh`, `/bin/sh`, `bash`, `ash`) with `-c SCRIPT` interprets SCRIPT with the small busybox-like
  subset below; a shell without `-c` and without a terminal reads an empty stdin and exits 0 at once (which
  is why a bare `busybox` Pod ends in CrashLoopBackOff);
- one of the shell's commands (`sleep 3600`, `echo hi`, ...) runs as that command;
- a known server or daemon (nginx, redis-server, httpd-foreground, coredns, kube-proxy, the pause
  process, agnhost's `liveness`, `netexec`, `pause`) runs until it is stopped; it listens on its ports;
- anything else is not in the image: StartContainer fails (`exec: "x": executable file not found in $PATH`).

The script subset: `;`, `&&`, `||`, newlines, `while COND; do ...; done` (and `until`), redirections
`> F`, `>> F`, `2>&1`, `>/dev/null`; commands `touch`, `rm [-f]`, `sleep N|infinity`, `exit N`, `echo`,
`cat`, `ls`, `test -e/-f`/`[ ... ]`, `mkdir`, `date`, `true`, `false`, `:`. Anything else prints
`sh: X: not found` and has status 127 (busybox ash). No variables, no globbing, no pipes.

Signals: the kubelet stops a container with the image's STOPSIGNAL (SIGTERM by default, SIGQUIT for nginx)
and SIGKILL at the end of the grace period. A server exits promptly (status 0); a shell or `sleep` running
as PID 1 has no handler, and the kernel does not deliver unhandled signals to PID 1 of a PID namespace, so
it ignores SIGTERM and dies by SIGKILL (status 137).

A process is a generator that yields how long it sleeps (`float`, `math.inf` for ever); the runtime drives
it on the simulation's clock (`Process.start`, `Process.signal`). The same interpreter runs an exec probe
synchronously (`exec_sync`), against the same per-container filesystem.
"""
from __future__ import annotations

import math
import posixpath
from dataclasses import dataclass, field
from typing import Callable, Generator

SHELLS = {"sh", "bash", "ash", "dash"}
BUILTINS = {"touch", "rm", "sleep", "exit", "echo", "cat", "ls", "test", "[", "mkdir", "date", "true", "false", ":"}


@dataclass
class Server:
    """A long-running program: the ports it listens on and what it answers on HTTP."""
    name: str
    ports: tuple[int, ...] = ()
    stop_delay: float = 0.1                    # seconds between the stop signal and its exit
    logs: tuple[str, ...] = ()
    http: Callable[[float, int, str], int] | None = None  # (seconds since start, port, path) -> status code


@dataclass
class FileSystem:
    """A container's writable layer: each container (each restart) starts from the image's files."""
    files: dict[str, str] = field(default_factory=dict)

    def exists(self, path: str) -> bool:
        path = posixpath.normpath(path)
        return path in self.files or any(p.startswith(path.rstrip("/") + "/") for p in self.files)


class ExitShell(Exception):
    def __init__(self, code: int):
        self.code = code


def _tokenize(script: str) -> list[str]:
    """Words and operators (`;`, `&&`, `||`, `&`, `|`, newline, `>`, `>>`, `2>&1`), with quotes removed."""
    toks: list[str] = []
    i, n = 0, len(script)
    cur: list[str] | None = None
    while i < n:
        ch = script[i]
        if ch in " \t":
            if cur is not None:
                toks.append("".join(cur))
                cur = None
            i += 1
            continue
        if ch == "#" and cur is None:
            while i < n and script[i] != "\n":
                i += 1
            continue
        if ch in ";\n&|><" or (ch == "2" and cur is None and script[i:i + 2] in ("2>",)):
            if cur is not None:
                toks.append("".join(cur))
                cur = None
            for op in ("2>&1", "2>>", "2>", "&&", "||", ">>", ";", "\n", "&", "|", ">", "<"):
                if script.startswith(op, i):
                    toks.append(op if op != "\n" else ";")
                    i += len(op)
                    break
            continue
        if ch in "'\"":
            end = script.find(ch, i + 1)
            if end < 0:
                end = n
            cur = (cur or []) + [script[i + 1:end]]
            i = end + 1
            continue
        if ch == "\\" and i + 1 < n:
            cur = (cur or []) + [script[i + 1]]
            i += 2
            continue
        cur = (cur or []) + [ch]
        i += 1
    if cur is not None:
        toks.append("".join(cur))
    return toks


# AST: ("list", [(op, node), ...]) with op in (None, ";", "&&", "||"); ("cmd", argv, redirects);
# ("while", negate, cond_list, body_list)
def parse(script: str):
    toks = _tokenize(script)
    pos = 0

    def parse_list(stops: tuple[str, ...]):
        nonlocal pos
        items = []
        op = None
        while pos < len(toks) and toks[pos] not in stops:
            t = toks[pos]
            if t in (";", "&"):
                pos += 1
                op = ";" if items else None
                continue
            if t in ("&&", "||"):
                pos += 1
                op = t
                continue
            node = parse_command()
            items.append((op, node))
            op = ";"
        return ("list", items)

    def parse_command():
        nonlocal pos
        t = toks[pos]
        if t in ("while", "until"):
            pos += 1
            cond = parse_list(("do",))
            pos += 1  # do
            body = parse_list(("done",))
            pos += 1  # done
            return ("while", t == "until", cond, body)
        argv: list[str] = []
        redirects: list[tuple[str, str]] = []
        while pos < len(toks) and toks[pos] not in (";", "&", "&&", "||", "do", "done") or (
                pos < len(toks) and toks[pos] in ("do", "done") and argv):
            t = toks[pos]
            if t in (">", ">>", "2>", "2>>", "<"):
                target = toks[pos + 1] if pos + 1 < len(toks) else ""
                redirects.append((t, target))
                pos += 2
                continue
            if t == "2>&1":
                pos += 1
                continue
            if t == "|":  # pipes are not modelled: the right-hand side consumes nothing
                pos += 1
                continue
            argv.append(t)
            pos += 1
        return ("cmd", argv, redirects)

    return parse_list(())


def _duration(arg: str) -> float | None:
    if arg in ("infinity", "inf"):
        return math.inf
    mult = 1.0
    if arg and arg[-1] in "smhd":
        mult = {"s": 1, "m": 60, "h": 3600, "d": 86400}[arg[-1]]
        arg = arg[:-1]
    try:
        v = float(arg)
    except ValueError:
        return None
    return v * mult if v >= 0 else None


class Shell:
    """Interprets a parsed script. `run()` is a generator yielding sleeps; it returns the exit status."""

    def __init__(self, fs: FileSystem, out: Callable[[str, str], None], clock: Callable[[], float]):
        self.fs = fs
        self.out = out          # (stream, line)
        self.clock = clock
        self.status = 0

    def run(self, tree) -> Generator[float, None, int]:
        try:
            return (yield from self._list(tree))
        except ExitShell as e:
            return e.code

    def _list(self, node) -> Generator[float, None, int]:
        status = self.status
        for op, item in node[1]:
            if op == "&&" and status != 0:
                continue
            if op == "||" and status == 0:
                continue
            if item[0] == "while":
                status = yield from self._while(item)
            else:
                status = yield from self._cmd(item[1], item[2])
            self.status = status
        return status

    def _while(self, node) -> Generator[float, None, int]:
        _, negate, cond, body = node
        status = 0
        while True:
            c = yield from self._list(cond)
            if (c == 0) == negate:
                return status
            before = self.clock()
            status = yield from self._list(body)
            if self.clock() == before:
                yield 0.001  # a loop that takes no time would spin for ever; let the clock move

    def _cmd(self, argv: list[str], redirects) -> Generator[float, None, int]:
        if not argv:
            return 0
        name, args = argv[0], argv[1:]
        lines: list[tuple[str, str]] = []

        def emit(stream: str, line: str) -> None:
            lines.append((stream, line))

        base = posixpath.basename(name)
        status = 0
        if base == "sleep":
            d = _duration(args[0]) if args else None
            if d is None:
                emit("stderr", f"sleep: invalid number '{args[0] if args else ''}'")
                status = 1
            else:
                self._flush(lines, redirects)
                lines = []
                yield d
        elif base == "exit":
            self._flush(lines, redirects)
            try:
                code = int(args[0]) & 0xFF if args else self.status
            except ValueError:
                emit("stderr", f"sh: exit: Illegal number: {args[0]}")
                code = 2
            raise ExitShell(code)
        elif base == "touch":
            for f in args:
                self.fs.files.setdefault(posixpath.normpath(f), "")
        elif base == "rm":
            force = any(a.startswith("-") and "f" in a for a in args)
            for f in (a for a in args if not a.startswith("-")):
                p = posixpath.normpath(f)
                if p in self.fs.files:
                    del self.fs.files[p]
                elif not force:
                    emit("stderr", f"rm: can't remove '{f}': No such file or directory")
                    status = 1
        elif base == "echo":
            words = [a for a in args if a != "-n"]
            emit("stdout", " ".join(words))
        elif base == "cat":
            for f in args:
                p = posixpath.normpath(f)
                if p in self.fs.files:
                    for ln in self.fs.files[p].splitlines():
                        emit("stdout", ln)
                else:
                    emit("stderr", f"cat: can't open '{f}': No such file or directory")
                    status = 1
        elif base == "ls":
            for f in (a for a in args if not a.startswith("-")):
                if self.fs.exists(f):
                    emit("stdout", f)
                else:
                    emit("stderr", f"ls: {f}: No such file or directory")
                    status = 1
        elif base in ("test", "["):
            a = [x for x in args if x != "]"]
            if len(a) == 2 and a[0] in ("-e", "-f"):
                status = 0 if self.fs.exists(a[1]) else 1
            elif len(a) == 2 and a[0] == "!" :
                status = 0 if not a[1] else 1
            else:
                status = 0 if a else 1
        elif base == "mkdir":
            pass
        elif base == "date":
            emit("stdout", _date(self.clock()))
        elif base in ("true", ":"):
            pass
        elif base == "false":
            status = 1
        else:
            emit("stderr", f"sh: {name}: not found")
            status = 127
        self._flush(lines, redirects)
        return status

    def _flush(self, lines, redirects) -> None:
        to_file = {}
        for op, target in redirects:
            if op in (">", ">>"):
                to_file["stdout"] = (op, target)
            elif op in ("2>", "2>>"):
                to_file["stderr"] = (op, target)
        touched = set()
        for op, target in to_file.values():
            if target == "/dev/null":
                continue
            p = posixpath.normpath(target)
            if op in (">", "2>") and p not in touched:
                self.fs.files[p] = ""
            else:
                self.fs.files.setdefault(p, "")
            touched.add(p)
        for stream, line in lines:
            redir = to_file.get(stream)
            if redir is None:
                self.out(stream, line)
            elif redir[1] != "/dev/null":
                p = posixpath.normpath(redir[1])
                self.fs.files[p] = self.fs.files.get(p, "") + line + "\n"


def _date(t: float) -> str:
    """busybox `date`: Wed Jan  1 00:00:30 UTC 2025 (virtual time on the simulator's epoch)."""
    import datetime as _dt

    from .. import clock
    d = clock.EPOCH + _dt.timedelta(seconds=int(t))
    return f"{d:%a %b} {d.day:2d} {d:%H:%M:%S} UTC {d.year}"


# ---- programs --------------------------------------------------------------------------------------------
def _agnhost_liveness(age: float, port: int, path: str) -> int:
    # test/images/agnhost/liveness/server.go: /healthz answers 200 for the first 10 s, then 500.
    if path.rstrip("/") == "/healthz":
        return 200 if age < 10 else 500
    return 200


_NGINX_LOGS = ("/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
               "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
               "/docker-entrypoint.sh: Configuration complete; ready for start up")

SERVERS: dict[str, Server] = {
    "nginx": Server("nginx", (80,), 0.05, _NGINX_LOGS),
    "redis-server": Server("redis-server", (6379,), 0.1, ("1:M * Ready to accept connections tcp",)),
    "httpd-foreground": Server("httpd", (80,), 0.1, ("AH00094: Command line: 'httpd -D FOREGROUND'",)),
    "pause": Server("pause", (), 0.01),
    "coredns": Server("coredns", (53, 8080, 8181), 0.1, ("CoreDNS-1.11.3",)),
    "kube-proxy": Server("kube-proxy", (10249, 10256), 0.1),
    "kindnetd": Server("kindnetd", (), 0.1),
    "local-path-provisioner": Server("local-path-provisioner", (), 0.1),
    "etcd": Server("etcd", (2379, 2380), 0.2),
    "kube-apiserver": Server("kube-apiserver", (6443,), 0.5),
    "kube-controller-manager": Server("kube-controller-manager", (10257,), 0.2),
    "kube-scheduler": Server("kube-scheduler", (10259,), 0.2),
}


@dataclass
class Program:
    """What argv turned out to be: a script for the shell, a server, or a start error."""
    kind: str                            # "shell" | "server" | "missing"
    tree: tuple | None = None
    server: Server | None = None
    missing: str = ""


def program_for(argv: list[str]) -> Program:
    argv = list(argv)
    # docker-entrypoint.sh scripts run their setup and then `exec "$@"`.
    while argv and posixpath.basename(argv[0]) in ("docker-entrypoint.sh",):
        argv = argv[1:]
    if not argv:
        return Program("shell", ("list", []))
    base = posixpath.basename(argv[0])
    if base in SHELLS:
        if len(argv) >= 3 and argv[1] == "-c":
            return Program("shell", parse(argv[2]))
        if len(argv) >= 2 and argv[1] == "-c":
            return Program("shell", ("list", []))
        return Program("shell", ("list", []))  # no terminal, empty stdin: exits 0 at once
    if base in BUILTINS and base != "exit":
        return Program("shell", ("list", [(None, ("cmd", argv, []))]))
    if base == "agnhost":
        sub = argv[1] if len(argv) > 1 else ""
        if sub == "liveness":
            return Program("server", server=Server("agnhost liveness", (8080,), 0.05,
                                                    ("Started HTTP server on port 8080",), _agnhost_liveness))
        if sub == "netexec":
            port = 8080
            for a in argv[2:]:
                if a.startswith("--http-port="):
                    port = int(a.split("=", 1)[1])
            return Program("server", server=Server("agnhost netexec", (port,), 0.05, (f"Started HTTP server on port {port}",)))
        if sub == "pause":
            return Program("server", server=Server("agnhost pause", (), 0.01, ("Paused",)))
        return Program("shell", ("list", [(None, ("cmd", ["echo", f'Error: unknown command "{sub}" for "agnhost"'], [])),
                                         (";", ("cmd", ["exit", "1"], []))]))
    if base in SERVERS:
        return Program("server", server=SERVERS[base])
    return Program("missing", missing=argv[0])
