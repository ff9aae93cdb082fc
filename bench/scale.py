"""Scale benchmarks (issue 3, "Measured"): run by `make bench`, or by hand:

    .venv/bin/python bench/scale.py                       # everything (takes a while)
    .venv/bin/python bench/scale.py --sizes 100,1000 --skip-cluster   # a quick look
    .venv/bin/python bench/scale.py --skip-scheduler --cluster-nodes 1000 --cluster-pods 30000
    .venv/bin/python bench/scale.py --profile bench/profiles ...       # cProfile each child, print the top

(a) Scheduler throughput: simulator.scheduler.perf.run(num_nodes, num_pods, seed) -- the scheduler with its
    default plugins and percentageOfNodesToScore over a node set of the given size -- at each size, 30 pods
    per node (150,000 pods at 5,000 nodes), each size in a fresh process so its peak RSS (VmHWM) is its own.
(b) A whole cluster: Cluster(large_topology(5000)) with every kubelet, 150,000 pods created through the API
    (as a Deployment when the Deployment controller runs, else as Pods posted directly), the tracer at the
    summary level; wall time, events, peak RSS.

Prints a table, each figure beside its target, and writes bench/scale.json. Figures are wall-clock
measurements of this machine: never assert on them in tests.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_PODS_PER_S = 2000.0   # at 5,000 nodes: five times the 400 pods/s of Kubernetes' scheduler-throughput test
TARGET_RSS_GIB = 4.0
GIB = 1024 ** 3


def peak_rss_bytes() -> int:
    """VmHWM: the process's peak resident set size (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---- children (each in a fresh process) ------------------------------------------------------------------
def child_scheduler(nodes: int, pods: int, seed: int, module: str = "simulator.scheduler.perf") -> dict:
    import importlib
    try:
        perf = importlib.import_module(module)
    except ImportError as e:
        return {"error": f"{module} is not available ({e})"}
    t0 = time.perf_counter()
    r = perf.run(nodes, pods, seed)
    wall = time.perf_counter() - t0
    out = {k: r[k] for k in ("nodes", "pods", "seconds", "cpu_seconds", "pods_per_second", "scheduled") if k in r}
    out["wall_seconds"] = round(wall, 3)
    return out


def child_cluster(nodes: int, pods: int, seed: int, workload: str, detail_pods: int, inflight: int) -> dict:
    from workload import run_cluster  # bench/workload.py (this script's directory is on sys.path)
    last = [0.0]

    def progress(line: str) -> None:   # a line a minute on stderr: a long run shows where it is
        now = time.perf_counter()
        if now - last[0] >= 60:
            last[0] = now
            print("  " + line, file=sys.stderr, flush=True)
    return run_cluster(nodes, pods, seed, workload=workload, detail_pods=detail_pods, inflight=inflight, log=progress)


def child_main(args) -> None:
    prof = cProfile.Profile() if args.profile else None
    if prof:
        prof.enable()
    if args.child == "scheduler":
        res = child_scheduler(args.nodes, args.pods, args.seed, args.perf_module)
    else:
        res = child_cluster(args.nodes, args.pods, args.seed, args.workload, args.detail_pods, args.inflight)
    if prof:
        prof.disable()
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        path = Path(args.profile) / f"{args.child}-{args.nodes}.prof"
        prof.dump_stats(path)
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(25)
        sys.stderr.write(s.getvalue())
        res["profile"] = str(path)
    res["peak_rss_bytes"] = peak_rss_bytes()
    print("RESULT " + json.dumps(res))


def run_child(argv: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv]
    t0 = time.perf_counter()
    try:
        # stderr is the child's own (progress, profiles): shown as it comes, not after the end
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
            res.setdefault("process_seconds", round(time.perf_counter() - t0, 3))
            return res
    tail = (p.stdout or "").strip().splitlines()[-3:]
    return {"error": f"exit code {p.returncode}: " + " | ".join(tail)}


# ---- the report -------------------------------------------------------------------------------------------
def _err(r: dict) -> str:
    e = str(r["error"])
    return "error: " + (e if len(e) <= 90 else e[:60] + " ... " + e[-30:])


def _gib(b: int | None) -> str:
    return "-" if not b else f"{b / GIB:.2f} GiB"


def table(results: dict) -> str:
    rows = [("measure", "value", "target", "ok")]
    for r in results.get("scheduler", []):
        n = r.get("nodes_requested")
        if "error" in r:
            rows.append((f"scheduler @ {n:,} nodes", _err(r), "", "no"))
            continue
        pps = r["pods_per_second"]
        target = f">= {TARGET_PODS_PER_S:,.0f} pods/s" if n >= 5000 else "(growth of cost with size)"
        ok = ("yes" if pps >= TARGET_PODS_PER_S else "no") if n >= 5000 else ""
        runs = r.get("runs")
        best = f"best of {len(runs)}: " if runs else ""
        every = f"; runs: {', '.join('failed' if x is None else f'{x:,.0f}' for x in runs)}" if runs else ""
        cpu = f", {r['cpu_seconds']:.1f} s CPU" if "cpu_seconds" in r else ""
        rows.append((f"scheduler @ {n:,} nodes, {r['pods']:,} pods", f"{best}{pps:,.0f} pods/s "
                     f"({r['scheduled']:,} scheduled in {r['seconds']:.1f} s{cpu}{every})", target, ok))
        rows.append((f"  peak RSS @ {n:,} nodes", _gib(r.get("peak_rss_bytes")), f"<= {TARGET_RSS_GIB:.0f} GiB",
                     "yes" if r.get("peak_rss_bytes", 0) <= TARGET_RSS_GIB * GIB else "no"))
    c = results.get("cluster")
    if c:
        label = f"cluster @ {c.get('nodes_requested', 0):,} nodes"
        if "error" in c:
            rows.append((label, _err(c), "", "no"))
        else:
            done = c["running"] >= c["pods"]
            rows.append((f"{label}, {c['pods']:,} pods ({c['workload']})",
                         f"{c['wall_seconds']:,.1f} s wall, {c['virtual_seconds']:,.1f} s virtual",
                         "all pods Running", "yes" if done else f"no ({c['running']:,} Running)"))
            rows.append(("  pods scheduled per wall second", f"{c['pods_per_wall_second']:,.0f} pods/s", "(whole pipeline)", ""))
            rows.append(("  events emitted (summary level)",
                         f"{c['events_emitted']:,} of {c['events_total']:,} ({c['events_max_per_virtual_second']:,}/s at most)",
                         "bounded per virtual second", ""))
            rows.append(("  peak RSS", _gib(c.get("peak_rss_bytes")), f"<= {TARGET_RSS_GIB:.0f} GiB",
                         "yes" if c.get("peak_rss_bytes", 0) <= TARGET_RSS_GIB * GIB else "no"))
    w = [max(len(str(r[i])) for r in rows) for i in range(4)]
    lines = ["  ".join(str(v).ljust(w[i]) for i, v in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000,5000", help="node counts for the scheduler benchmark")
    ap.add_argument("--pods-per-node", type=int, default=30)
    ap.add_argument("--cluster-nodes", type=int, default=5000)
    ap.add_argument("--cluster-pods", type=int, default=150000)
    ap.add_argument("--workload", choices=("auto", "deployments", "pods"), default="auto")
    ap.add_argument("--detail-pods", type=int, default=50)
    ap.add_argument("--inflight", type=int, default=500, help="pod creations in flight (direct pods)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="scheduler runs per size, each in a fresh process; the best is reported (as timeit does: "
                         "on a shared machine the slower runs measure the neighbours), every run is listed")
    ap.add_argument("--skip-scheduler", action="store_true")
    ap.add_argument("--skip-cluster", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3600.0, help="per child process, seconds")
    ap.add_argument("--out", default=str(ROOT / "bench" / "scale.json"))
    ap.add_argument("--profile", default="", help="directory: cProfile every child, dump .prof files there")
    ap.add_argument("--perf-module", default="simulator.scheduler.perf", help=argparse.SUPPRESS)
    ap.add_argument("--child", choices=("scheduler", "cluster"), help=argparse.SUPPRESS)
    ap.add_argument("--nodes", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--pods", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    prof = ["--profile", args.profile] if args.profile else []
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()},
                     "targets": {"pods_per_second_at_5000_nodes": TARGET_PODS_PER_S, "peak_rss_gib": TARGET_RSS_GIB}}
    if not args.skip_scheduler:
        results["scheduler"] = []
        for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
            pods = n * args.pods_per_node
            print(f"scheduler: {n} nodes, {pods} pods ...", file=sys.stderr, flush=True)
            runs = [run_child(["--child", "scheduler", "--nodes", str(n), "--pods", str(pods), "--seed", str(args.seed),
                               "--perf-module", args.perf_module, *prof], args.timeout)
                    for _ in range(max(1, args.repeat))]
            ok = [x for x in runs if "error" not in x]
            r = dict(max(ok, key=lambda x: x["pods_per_second"]) if ok else runs[0])
            if len(runs) > 1:
                r["runs"] = [x.get("pods_per_second") if "error" not in x else None for x in runs]
            r["nodes_requested"] = n
            results["scheduler"].append(r)
            print("  " + (_err(r) if "error" in r else f"{r['pods_per_second']:,.0f} pods/s, peak RSS "
                          f"{_gib(r.get('peak_rss_bytes'))}"), file=sys.stderr, flush=True)
    if not args.skip_cluster:
        print(f"cluster: {args.cluster_nodes} nodes, {args.cluster_pods} pods ...", file=sys.stderr, flush=True)
        r = run_child(["--child", "cluster", "--nodes", str(args.cluster_nodes), "--pods", str(args.cluster_pods),
                       "--seed", str(args.seed), "--workload", args.workload, "--detail-pods", str(args.detail_pods),
                       "--inflight", str(args.inflight), *prof], args.timeout)
        r["nodes_requested"] = args.cluster_nodes
        results["cluster"] = r
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
