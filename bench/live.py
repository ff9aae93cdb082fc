"""Live delivery (issue 7, "Benchmarks" 1-4): run by `make bench`, or by hand:

    .venv/bin/python bench/live.py                 # everything, about 4 minutes
    .venv/bin/python bench/live.py --quick         # fewer rates and viewers, a first look

The real stack (dashboard.launcher.Stack: redis-server, a Celery worker, Daphne) on free ports, in a
throwaway directory. Viewers are raw WebSocket clients in a child process (bench/live.py viewers ...): an
asyncio Protocol that parses frames and finds each event's emit time with one regular expression, so that
200 of them in one Python process cost little next to the server they measure.

1. Latency: a Run row, then events appended at a fixed rate through runlog.append under the run's lock - the
   worker's own write path - each carrying its wall-clock emit time (`data.sent`); every viewer records
   receive time minus emit time for every event (or every k-th, above 50,000 a second in all). p50/p95/p99
   per rate (100, 1,000, 5,000 events/s) and viewer count (1, 50, 200). Each event is a real one from the
   simulator (an API request of pod-create, about 600 bytes), so frames are of a realistic size.
2. Fan-out: N events appended as fast as the writer goes, to 200 viewers; delivered events per second (all
   viewers, first emit to last receive). Then the same N events, same size, through a bare `websockets`
   broadcast server (one frame per event, nothing stored) to 200 viewers of the same client. Ratio.
3. Click to first event: Debian's Chromium (Playwright) logged in as the instructor; in the page,
   POST /api/runs then the page's own RunStream (static/js/live.js) until the first event; repeated, p95.
4. Memory: Daphne's RSS with 1 viewer and then 200 viewers of a live run (per viewer); Redis `used_memory`
   before and after a run of 100,000 real simulator events (the log stream plus a snapshot).

Prints a table (each figure beside its target) and writes bench/live.json. Wall-clock figures of this
machine (2 cores shared by the server, Redis, the writer and the viewers); never asserted in tests.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SENT_RE = re.compile(rb'"sent":([0-9.]+)[,}]')
TARGETS = {"latency_p99_ms": 100.0, "fanout_ratio": 0.5, "click_p95_ms": 300.0}
SAMPLES_PER_S = 50000  # latency samples per second over all viewers, at most


# -- the viewer child -------------------------------------------------------------------------------------

class RawViewer(asyncio.Protocol):
    """One WebSocket viewer: handshake, subscribe, then count events and sample latencies per frame."""

    def __init__(self, host: str, path: str, origin: str, since: int, every: int, ready: asyncio.Event,
                 counter: dict):
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
                        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode()
        self.since, self.every, self.ready, self.counter = since, every, ready, counter
        self.buf = bytearray()
        self.open = False
        self.subscribed = False
        self.events = self.frames = 0
        self.latencies: list[float] = []
        self.first = self.last = None
        self.transport = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(exc)

    def send_text(self, text: str, opcode: int = 1) -> None:
        data = text.encode()
        mask = os.urandom(4)
        head = bytes([0x80 | opcode])
        n = len(data)
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
        self.transport.write(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def data_received(self, data: bytes):
        now = time.time()
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in bytes(buf[:buf.find(b"\r\n")]):
                raise SystemExit(f"handshake refused: {bytes(buf[:200])!r}")
            del buf[:end + 4]
            self.open = True
            if self.since is not None:
                self.send_text(json.dumps({"type": "subscribe", "since": self.since}))
        pos, n = 0, len(buf)
        while n - pos >= 2:
            op, ln, hl = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if n - pos < hl + ln:
                break
            payload = bytes(buf[pos + hl:pos + hl + ln])
            pos += hl + ln
            if op == 1:
                self.text(payload, now)
            elif op == 9:
                self.send_text(payload.decode(errors="replace"), opcode=10)
            elif op == 8:
                self.transport.close()
        del buf[:pos]

    def text(self, payload: bytes, now: float) -> None:
        head = payload[:24].replace(b" ", b"")
        if head.startswith(b'{"type":"run"'):
            if not self.subscribed:   # the server's answer to our subscribe
                self.subscribed = True
                self.counter["pending"] -= 1
                if self.counter["pending"] <= 0:
                    self.ready.set()
            return
        if head.startswith(b'{"type":"snapshot"') or head.startswith(b'{"type":"error"'):
            return
        sent = SENT_RE.findall(payload)
        if not sent:
            return
        self.frames += 1
        if self.first is None:
            self.first = now
        self.last = now
        start = (-self.events) % self.every
        self.events += len(sent)
        for s in sent[start::self.every]:
            self.latencies.append(now - float(s))


async def viewers_main(args) -> None:
    """Connect args.n viewers, say READY, then read until each has args.expect events (given on stdin)."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    # Our server answers a subscribe with a run message (and, for since 0, a snapshot): wait for each one's.
    counter = {"pending": args.n}
    views = []
    for i in range(args.n):
        _t, v = await loop.create_connection(
            lambda: RawViewer(f"{args.host}:{args.port}", args.path, args.origin,
                              None if args.bare else args.since, args.every, ready, counter),
            args.host, args.port)
        views.append(v)
    if args.bare:
        ready.set()
    await asyncio.wait_for(ready.wait(), 60)
    print("READY", flush=True)
    line = await loop.run_in_executor(None, sys.stdin.readline)
    expect = int(line.split()[1])
    deadline = loop.time() + args.timeout
    while loop.time() < deadline and any(v.events < expect for v in views):
        await asyncio.sleep(0.05)
    lat = sorted(x for v in views for x in v.latencies)
    res = {
        "viewers": len(views), "expect": expect,
        "received": sum(v.events for v in views), "frames": sum(v.frames for v in views),
        "complete": sum(v.events >= expect for v in views),
        "first": min((v.first for v in views if v.first), default=None),
        "last": max((v.last for v in views if v.last), default=None),
        "samples": len(lat), "percentiles_ms": {p: pct(lat, p) * 1000 for p in (50, 95, 99)} if lat else None,
        "max_ms": lat[-1] * 1000 if lat else None,
    }
    print("RESULT " + json.dumps(res), flush=True)
    for v in views:
        v.transport.close()


def pct(sorted_values: list[float], p: float) -> float:
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


class ViewerGroup:
    """The viewer child process, from the parent's side."""

    def __init__(self, port: int, path: str, origin: str, n: int, every: int = 1, since: int = 0,
                 bare: bool = False, timeout: float = 60):
        argv = [sys.executable, __file__, "viewers", "--port", str(port), "--path", path, "--origin", origin,
                "--n", str(n), "--every", str(every), "--since", str(since), "--timeout", str(timeout)]
        if bare:
            argv.append("--bare")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline()
        if line.strip() != "READY":
            self.proc.kill()
            raise RuntimeError(f"viewers did not connect: {line!r}")

    def finish(self, expect: int) -> dict:
        self.proc.stdin.write(f"END {expect}\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("RESULT "):
                self.proc.wait(30)
                return json.loads(line[7:])
        raise RuntimeError("the viewer child gave no result")


# -- the bare websockets broadcast server (the fan-out baseline) --------------------------------------------

async def bare_main(args) -> None:
    """Accept args.n viewers; on stdin `GO <count>`, broadcast that many events, one frame each."""
    from websockets.asyncio.server import broadcast, serve

    clients = set()

    async def handler(ws):
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    template = json.loads(args.template)
    async with serve(handler, "127.0.0.1", args.port, compression=None, ping_interval=None, max_queue=None):
        print("LISTENING", flush=True)
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, sys.stdin.readline)
        count = int(line.split()[1])
        for i in range(1, count + 1):
            ev = dict(template, seq=i, data=dict(template["data"], sent=time.time()))
            broadcast(clients, '{"type":"event","event":' + json.dumps(ev, separators=(",", ":")) + "}")
            if i % 20 == 0:
                await asyncio.sleep(0)  # let the transports write, as a server with other work would
        while any(ws.transport.get_write_buffer_size() for ws in list(clients)):
            await asyncio.sleep(0.01)
        await loop.run_in_executor(None, sys.stdin.readline)


# -- the parent: stack, writer, browser --------------------------------------------------------------------

def setup_django(env: dict) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()


def template_event() -> dict:
    """A real event of median size from the simulator (pod-create's run)."""
    from simulator import scenarios
    from simulator.runner import Simulation

    events = list(Simulation("pod-create", params=scenarios.validate("pod-create", {}), seed=1, run_id="0" * 32).events())
    events.sort(key=lambda e: len(json.dumps(e)))
    ev = events[len(events) // 2]
    return dict(ev, data=dict(ev.get("data") or {}))


def real_events(count: int) -> list[dict]:
    """`count` real simulator events: the catalog's scenarios with their defaults, again with new seeds."""
    from simulator import scenarios
    from simulator.runner import Simulation

    out: list[dict] = []
    seed = 0
    ids = [s["id"] for s in scenarios.catalog() if "sim" in s.get("backends", ["sim"])]
    while len(out) < count:
        seed += 1
        for sid in ids:
            try:
                params = scenarios.validate(sid, {})
            except Exception:
                continue
            for ev in Simulation(sid, params=params, seed=seed, run_id="0" * 32).events():
                out.append(dict(ev, seq=len(out) + 1))
                if len(out) >= count:
                    return out
    return out


class Writer:
    """A Run row and its log, written the way the worker writes: runlog.append under the run's lock."""

    def __init__(self, template: dict):
        from dashboard import runlog
        from dashboard.models import Run

        self.runlog = runlog
        self.run = Run.objects.create(scenario="pod-create", seed=1, status=Run.RUNNING, params={})
        self.hex = self.run.id.hex
        self.r = runlog.worker_client()
        self.lock = runlog.RunLock(self.hex, 60.0, self.r)
        assert self.lock.acquire()
        runlog.set_meta(self.hex, r=self.r, status=Run.RUNNING, paused=0, last_seq=0)
        self.template = dict(template, run=self.hex)
        self.seq = 0

    def append(self) -> None:
        self.seq += 1
        ev = dict(self.template, seq=self.seq, data=dict(self.template["data"], sent=time.time()))
        self.runlog.append(self.hex, ev, r=self.r, lock=self.lock)

    def paced(self, rate: float, seconds: float) -> float:
        """Append at `rate` per second for `seconds`; the rate achieved."""
        total = int(rate * seconds)
        t0 = time.perf_counter()
        for i in range(total):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0.001:
                time.sleep(delay)
            self.append()
        return total / (time.perf_counter() - t0)

    def end(self) -> None:
        from dashboard.models import Run

        Run.objects.filter(id=self.run.id).update(status=Run.SUCCEEDED, last_seq=self.seq)
        self.runlog.set_meta(self.hex, r=self.r, status=Run.SUCCEEDED, last_seq=self.seq)
        self.lock.release()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_latency(stack, ws_origin: str, template: dict, rates, viewer_counts, seconds: float) -> list[dict]:
    rows = []
    for viewers in viewer_counts:
        for rate in rates:
            w = Writer(template)
            every = max(1, int(rate * viewers // SAMPLES_PER_S))
            group = ViewerGroup(stack.http_port, f"/ws/runs/{w.hex}/", ws_origin, viewers, every=every,
                                timeout=max(30.0, seconds * 3))
            achieved = w.paced(rate, seconds)
            res = group.finish(w.seq)
            w.end()
            row = {"rate": rate, "viewers": viewers, "achieved_rate": round(achieved, 1), "events": w.seq,
                   "complete_viewers": res["complete"], "frames_per_viewer_s": round(
                       res["frames"] / viewers / seconds, 1), "samples": res["samples"]}
            row.update({f"p{p}_ms": round(v, 1) for p, v in (res["percentiles_ms"] or {}).items()})
            row["max_ms"] = round(res["max_ms"], 1) if res["max_ms"] is not None else None
            rows.append(row)
            print(f"  latency {rate:>5} ev/s x {viewers:>3} viewers: p50 {row.get('p50_ms')} p95 "
                  f"{row.get('p95_ms')} p99 {row.get('p99_ms')} ms; {res['complete']}/{viewers} complete; "
                  f"written at {achieved:.0f}/s", file=sys.stderr, flush=True)
    return rows


def measure_fanout(stack, ws_origin: str, template: dict, viewers: int, count: int) -> dict:
    # Ours: the writer as fast as it goes.
    w = Writer(template)
    group = ViewerGroup(stack.http_port, f"/ws/runs/{w.hex}/", ws_origin, viewers, timeout=120)
    t0 = time.time()
    for _ in range(count):
        w.append()
    written = time.time() - t0
    ours = group.finish(count)
    w.end()
    ours_rate = ours["received"] / (ours["last"] - t0)
    # The bare server: same event, same viewers, one frame per event.
    from dashboard.launcher import free_port

    port = free_port()
    bare = subprocess.Popen([sys.executable, __file__, "bare", "--port", str(port), "--template",
                             json.dumps(dict(template, run="0" * 32))], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert bare.stdout.readline().strip() == "LISTENING"
    group = ViewerGroup(port, "/", "http://127.0.0.1", viewers, bare=True, timeout=120)
    time.sleep(0.5)  # the server registers its last connections
    t0 = time.time()
    bare.stdin.write(f"GO {count}\n")
    bare.stdin.flush()
    theirs = group.finish(count)
    bare.stdin.write("STOP\n")
    bare.stdin.flush()
    bare.wait(30)
    bare_rate = theirs["received"] / (theirs["last"] - t0)
    out = {"viewers": viewers, "events": count, "writer_s": round(written, 2),
           "ours_events_per_s": round(ours_rate), "ours_complete": ours["complete"],
           "ours_frames": ours["frames"], "ours_p99_ms": round(ours["percentiles_ms"]["99"], 1),
           "bare_events_per_s": round(bare_rate), "bare_complete": theirs["complete"],
           "bare_p99_ms": round(theirs["percentiles_ms"]["99"], 1), "ratio": round(ours_rate / bare_rate, 3)}
    print(f"  fan-out to {viewers}: ours {ours_rate:,.0f} ev/s, bare websockets {bare_rate:,.0f} ev/s",
          file=sys.stderr, flush=True)
    return out


CLICK_JS = """
async ([n, csrf]) => {
  const { RunStream } = await import("/static/js/live.js");
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch("/api/runs", { method: "POST", headers: { "Content-Type": "application/json",
      "X-CSRFToken": csrf }, body: JSON.stringify({ scenario: "pod-create", backend: "sim", speed: "1", seed: i + 1 }) });
    if (r.status !== 201) throw new Error("POST /api/runs: " + r.status + " " + await r.text());
    const run = await r.json();
    await new Promise((resolve) => {
      const stream = new RunStream(run.id, { onEvent: () => { if (stream.closed) return;
        out.push(performance.now() - t0); stream.stop(); resolve(); } }).start();
    });
    await fetch(`/api/runs/${run.id}/control`, { method: "POST", headers: { "Content-Type": "application/json",
      "X-CSRFToken": csrf }, body: JSON.stringify({ action: "cancel" }) });
    for (let k = 0; k < 100; k++) {   // the worker is free again before the next click
      const s = await (await fetch(`/api/runs/${run.id}`)).json();
      if (["succeeded", "failed", "cancelled"].includes(s.status)) break;
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return out;
}
"""


def measure_click(stack, password: str, n: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(stack_base(stack) + "/accounts/login/?next=/")
            page.fill("#id_username", "instructor")
            page.fill("#id_password", password)
            with page.expect_navigation():
                page.click("form.stacked button[type=submit]")
            csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
            times = sorted(page.evaluate(CLICK_JS, [n, csrf]))
        finally:
            browser.close()
    return {"runs": n, "p50_ms": round(pct(times, 50), 1), "p95_ms": round(pct(times, 95), 1),
            "max_ms": round(times[-1], 1)}


def stack_base(stack) -> str:
    return f"http://127.0.0.1:{stack.http_port}"


def measure_memory(stack, ws_origin: str, template: dict, viewers: int, redis_events: int) -> dict:
    import redis

    from dashboard import runlog

    daphne = stack.procs["daphne"].pid
    w = Writer(template)
    for _ in range(200):
        w.append()
    one = ViewerGroup(stack.http_port, f"/ws/runs/{w.hex}/", ws_origin, 1, timeout=30)
    time.sleep(1.0)
    base = rss_kib(daphne)
    many = ViewerGroup(stack.http_port, f"/ws/runs/{w.hex}/", ws_origin, viewers - 1, timeout=30)
    w.paced(100, 5)  # a live run, with a tail in every viewer's socket
    time.sleep(1.0)
    loaded = rss_kib(daphne)
    many.finish(w.seq)
    one.finish(w.seq)
    w.end()
    per_viewer = (loaded - base) / (viewers - 1)

    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    events = real_events(redis_events)
    from simulator import state as sim_state

    before = r.info("memory")["used_memory"]
    hexid = secrets.token_hex(16)
    p = r.pipeline(transaction=False)
    st = sim_state.initial()
    for ev in events:
        ev = dict(ev, run=hexid)
        st = sim_state.apply(st, ev)
        p.xadd(runlog.log_key(hexid), {runlog.ENTRY_FIELD: runlog.dumps(ev)}, id=f"{ev['seq']}-0",
               maxlen=max(redis_events, 10), approximate=True)
        if len(p) >= 1000:
            p.execute()
    p.execute()
    runlog.store_snapshot(hexid, len(events), st, r=redis.Redis.from_url(os.environ["REDIS_URL"],
                                                                        decode_responses=True))
    after = r.info("memory")["used_memory"]
    stream = r.memory_usage(runlog.log_key(hexid)) or 0
    snap = r.memory_usage(runlog.snap_key(hexid)) or 0
    avg_event = sum(len(runlog.dumps(e)) for e in events) / len(events)
    return {"daphne_rss_1_viewer_mib": round(base / 1024, 1), f"daphne_rss_{viewers}_viewers_mib":
            round(loaded / 1024, 1), "per_viewer_kib": round(per_viewer, 1),
            "redis_events": len(events), "redis_used_delta_mib": round((after - before) / 2**20, 1),
            "redis_stream_mib": round(stream / 2**20, 1), "redis_snapshot_kib": round(snap / 1024, 1),
            "avg_event_bytes": round(avg_event)}


def table(res: dict) -> str:
    lines = ["", "Live delivery (bench/live.py)", "",
             "| rate ev/s | viewers | p50 ms | p95 ms | p99 ms | max ms | frames/viewer/s | complete | target |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for row in res["latency"]:
        target = ""
        if row["rate"] == 1000 and row["viewers"] == 200:
            ok = row.get("p99_ms") is not None and row["p99_ms"] <= TARGETS["latency_p99_ms"]
            target = f"p99 <= 100 ms: {'met' if ok else 'MISSED'}"
        lines.append(f"| {row['rate']:,} | {row['viewers']} | {row.get('p50_ms')} | {row.get('p95_ms')} | "
                     f"{row.get('p99_ms')} | {row.get('max_ms')} | {row['frames_per_viewer_s']} | "
                     f"{row['complete_viewers']}/{row['viewers']} | {target} |")
    f = res.get("fanout")
    if f:
        lines += ["", f"Fan-out to {f['viewers']} viewers, {f['events']:,} events: ours {f['ours_events_per_s']:,} "
                      f"events/s delivered, bare websockets {f['bare_events_per_s']:,} events/s: ratio "
                      f"{f['ratio']:.2f} (target >= 0.50: {'met' if f['ratio'] >= TARGETS['fanout_ratio'] else 'MISSED'})"]
    c = res.get("click")
    if c:
        lines.append(f"Click to first event ({c['runs']} runs in Chromium): p50 {c['p50_ms']} ms, p95 "
                     f"{c['p95_ms']} ms (target <= 300 ms: {'met' if c['p95_ms'] <= TARGETS['click_p95_ms'] else 'MISSED'})")
    m = res.get("memory")
    if m:
        lines.append(f"Daphne memory per viewer: {m['per_viewer_kib']} KiB; Redis per run of "
                     f"{m['redis_events']:,} events: {m['redis_used_delta_mib']} MiB (stream "
                     f"{m['redis_stream_mib']} MiB, snapshot {m['redis_snapshot_kib']} KiB; events average "
                     f"{m['avg_event_bytes']} bytes as JSON)")
    return "\n".join(lines)


def parent_main(args) -> int:
    from dashboard.launcher import Stack, free_port

    root = Path(tempfile.mkdtemp(prefix="k8sdash-bench-"))
    port = free_port()
    password = secrets.token_urlsafe(12)
    env = {
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "DASHBOARD_INSTRUCTOR_USER": "instructor", "DASHBOARD_INSTRUCTOR_PASSWORD": password,
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DASHBOARD_MAX_ACTIVE_RUNS": "1000", "DASHBOARD_RUNS_PER_MINUTE": "1000",
    }
    stack = Stack(root / "var", port, env=env, redis_persist=False, quiet=True)
    stack.start()
    origin = f"http://127.0.0.1:{port}"
    try:
        setup_django(env)
        template = template_event()
        res: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                     "template_event_bytes": len(json.dumps(template, separators=(",", ":")))}
        if not args.skip_memory:
            print("memory ...", file=sys.stderr, flush=True)
            res["memory"] = measure_memory(stack, origin, template, max(args.viewers), args.redis_events)
        print("latency ...", file=sys.stderr, flush=True)
        res["latency"] = measure_latency(stack, origin, template, args.rates, args.viewers, args.seconds)
        print("fan-out ...", file=sys.stderr, flush=True)
        res["fanout"] = measure_fanout(stack, origin, template, max(args.viewers), args.fanout_events)
        if not args.skip_click:
            print("click to first event ...", file=sys.stderr, flush=True)
            res["click"] = measure_click(stack, password, args.clicks)
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    res["targets"] = TARGETS
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(table(res))
    print(f"\nwrote {args.out}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd")
    v = sub.add_parser("viewers")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, required=True)
    v.add_argument("--path", required=True)
    v.add_argument("--origin", required=True)
    v.add_argument("--n", type=int, required=True)
    v.add_argument("--every", type=int, default=1)
    v.add_argument("--since", type=int, default=0)
    v.add_argument("--timeout", type=float, default=60)
    v.add_argument("--bare", action="store_true")
    b = sub.add_parser("bare")
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--template", required=True)
    ap.add_argument("--rates", default="100,1000,5000")
    ap.add_argument("--viewers", default="1,50,200")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fanout-events", type=int, default=5000)
    ap.add_argument("--clicks", type=int, default=20)
    ap.add_argument("--redis-events", type=int, default=100000)
    ap.add_argument("--skip-click", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--quick", action="store_true", help="rates 100,1000; viewers 1,50; 4 s each; 10 clicks")
    ap.add_argument("--out", default=str(ROOT / "bench" / "live.json"))
    args = ap.parse_args(argv)
    if args.cmd == "viewers":
        asyncio.run(viewers_main(args))
        return 0
    if args.cmd == "bare":
        asyncio.run(bare_main(args))
        return 0
    if args.quick:
        args.rates, args.viewers, args.seconds, args.clicks, args.redis_events = "100,1000", "1,50", 4.0, 10, 20000
    args.rates = [int(x) for x in str(args.rates).split(",")]
    args.viewers = [int(x) for x in str(args.viewers).split(",")]
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
