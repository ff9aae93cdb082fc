"""A class at the live cluster (issue 6): N students, each with a kubeconfig of their own, each watching the
Pods of their namespace (`kubectl get pods -w`) while all of them run `kubectl run` at once; measured on the
real stack (redis-server, Celery worker, Daphne, and `manage.py kubeapi` at 1x, over HTTPS with bearer tokens).

Per class size: the create request's latency (POST to its 201), the time from the POST to the student's own
watch showing the Pod Running (the kubelet's image pull is part of it: about 3-5 s of cluster time at 1x for
a first pull of nginx, so the figure to read is how far above that the class pushes it), and the live
cluster process's CPU time and memory. No target is set in the issue; this tells whether one process
serves a class.

    .venv/bin/python bench/kubeapi.py                    # classes of 1, 10 and 40
    .venv/bin/python bench/kubeapi.py --students 1,40
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dashboard.launcher import Stack, free_port  # noqa: E402

IMAGE = "nginx"


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 1)


def proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, resident MiB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, rss


async def student(server: str, ctx: ssl.SSLContext, token: str, ns: str, name: str, go: asyncio.Event,
                  timeout: float) -> dict:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    out: dict = {"ok": False}
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=ctx)) as s:
        async with s.get(f"{server}/api/v1/namespaces/{ns}/pods") as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        running = asyncio.get_running_loop().create_future()

        async def watch():
            url = f"{server}/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={rv}&timeoutSeconds={int(timeout)}"
            async with s.get(url, timeout=aiohttp.ClientTimeout(total=timeout + 5)) as w:
                async for line in w.content:
                    ev = json.loads(line)
                    obj = ev["object"]
                    if obj.get("metadata", {}).get("name") == name and obj.get("status", {}).get("phase") == "Running":
                        if not running.done():
                            running.set_result(time.monotonic())
                        return

        watcher = asyncio.create_task(watch())
        await go.wait()
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"run": name}},
                "spec": {"containers": [{"name": name, "image": IMAGE}]}}
        t0 = time.monotonic()
        async with s.post(f"{server}/api/v1/namespaces/{ns}/pods", json=body) as r:
            text = await r.read()
            out["create_ms"] = (time.monotonic() - t0) * 1000
            out["code"] = r.status
            if r.status != 201:
                out["error"] = text.decode(errors="replace")[:300]
                return out
        try:
            t1 = await asyncio.wait_for(running, timeout)
            out["running_s"] = t1 - t0
            out["ok"] = True
        except asyncio.TimeoutError:
            pass
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    return out


async def class_round(server: str, ca: str, creds: list[tuple[str, str]], size: int, round_no: int,
                      timeout: float) -> list[dict]:
    ctx = ssl.create_default_context(cafile=ca)
    go = asyncio.Event()
    tasks = [asyncio.create_task(student(server, ctx, token, ns, f"r{round_no}-{i}", go, timeout))
             for i, (token, ns) in enumerate(creds[:size])]
    await asyncio.sleep(2.0)  # every watch open first
    go.set()
    return await asyncio.gather(*tasks)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", default="1,10,40", help="class sizes, comma-separated")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--out", default=str(HERE / "kubeapi.json"))
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.students.split(",")]
    root = Path(tempfile.mkdtemp(prefix="k8sdash-bench-kubeapi-"))
    port, kport, rport = free_port(), free_port(), free_port()
    env = {"DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}", "REDIS_URL": f"redis://127.0.0.1:{rport}/0",
           "DASHBOARD_INSTRUCTOR_PASSWORD": "bench-only", "KUBEAPI_PORT": str(kport),
           "KUBEAPI_DIR": str(root / "kubeapi"), "KUBEAPI_PUBLIC_HOST": "127.0.0.1"}
    stack = Stack(root / "var", port, env=env, redis_persist=False, quiet=True, kubeapi_port=kport)
    stack.start()
    rows = []
    try:
        n = max(sizes)
        # One Django process issues every student's kubeconfig (a manage.py per student would take a minute).
        script = ("import json; from dashboard.kubeapi.kubeconfig import issue; import yaml\n"
                  f"out=[]\nfor i in range({n}):\n"
                  "    a, text = issue(f'bench{i:03d}', 'student')\n"
                  "    out.append([yaml.safe_load(text)['users'][0]['user']['token'], a.namespace])\n"
                  "print(json.dumps(out))\n")
        raw = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=HERE.parent,
                             env={**stack.env}, capture_output=True, text=True, check=True).stdout
        creds = [tuple(x) for x in json.loads(raw.strip().splitlines()[-1])]
        server, ca = f"https://127.0.0.1:{kport}", str(root / "kubeapi" / "ca.crt")
        pid = stack.procs["kubeapi"].pid
        for round_no, size in enumerate(sizes):
            cpu0, _ = proc_stats(pid)
            t0 = time.monotonic()
            results = asyncio.run(class_round(server, ca, creds, size, round_no, args.timeout))
            wall = time.monotonic() - t0
            cpu1, rss = proc_stats(pid)
            errors = sorted({r["error"] for r in results if "error" in r})
            for e in errors[:3]:
                print(f"  error: {e}", flush=True)
            creates = [r["create_ms"] for r in results if "create_ms" in r]
            running = [r["running_s"] for r in results if r["ok"]]
            rows.append({"students": size, "created": sum(1 for r in results if r.get("code") == 201),
                         "running": len(running), "create_p50_ms": pct(creates, 50), "create_p95_ms": pct(creates, 95),
                         "create_max_ms": round(max(creates), 1) if creates else None,
                         "running_p50_s": pct(running, 50), "running_p95_s": pct(running, 95),
                         "running_max_s": round(max(running), 2) if running else None,
                         "kubeapi_cpu_s": round(cpu1 - cpu0, 2), "round_wall_s": round(wall, 1),
                         "kubeapi_rss_mib": round(rss, 1), "errors": errors[:3]})
            print(f"  {size} students: {rows[-1]}", flush=True)
    finally:
        stack.stop()
    res = {"image": IMAGE, "rows": rows, "median_first_pull_note": "nginx's first pull on a node takes 3-5 s of cluster time"}
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(table(res))
    print(f"\nwritten: {args.out}")
    return 0


def table(res: dict) -> str:
    lines = ["", "A class at the live cluster (bench/kubeapi.py): every student runs `kubectl run` at once", "",
             "| students | created | Running | create p50 ms | create p95 ms | create max ms | to Running p50 s | "
             "p95 s | max s | kubeapi CPU s | kubeapi RSS MiB |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in res["rows"]:
        lines.append(f"| {r['students']} | {r['created']} | {r['running']} | {r['create_p50_ms']} | {r['create_p95_ms']} | "
                     f"{r['create_max_ms']} | {r['running_p50_s']} | {r['running_p95_s']} | {r['running_max_s']} | "
                     f"{r['kubeapi_cpu_s']} | {r['kubeapi_rss_mib']} |")
    lines.append("(no target in the issue; the time to Running includes the simulated image pull)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
