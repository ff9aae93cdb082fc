"""Command line: python -m simulator run <scenario> [--seed N] [--speed max|<factor>] [--param k=v ...]
              python -m simulator scenarios
              python -m simulator etcdctl [-w json] --script FILE
              python -m simulator apply -f FILE [-f FILE ...] [--seed N] [--until-idle | --for SECONDS] [-o json|yaml] [--all]
Bad input exits with status 2 and a message naming the argument."""
from __future__ import annotations

import argparse
import json
import sys

from . import scenarios
from .errors import ParamError
from .realtime import paced
from .runner import Simulation


def _dump(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _fail(msg: str) -> int:
    print(f"simulator: error: {msg}", file=sys.stderr)
    return 2


def _parse_params(items: list[str], scenario_id: str) -> dict:
    specs = {p["name"]: p for p in scenarios.get(scenario_id).CATALOG["params"]}
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ParamError("--param", f"expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        t = specs.get(k, {}).get("type", "str")
        if t == "int":
            try:
                out[k] = int(v)
            except ValueError:
                raise ParamError(f"params.{k}", f"must be an integer, got {v!r}") from None
        elif t == "bool":
            if v.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ParamError(f"params.{k}", f"must be true or false, got {v!r}")
            out[k] = v.lower() in ("true", "1", "yes")
        else:
            out[k] = v
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulator", description="K8s Internals simulator")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("scenarios", help="list the scenarios (JSON)")
    run = sub.add_parser("run", help="run a scenario and print its events as JSON Lines")
    run.add_argument("scenario")
    run.add_argument("--seed", default="1")
    run.add_argument("--speed", default="max", help='"max" (no sleeping) or a factor such as 1, 0.25, 4')
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    ctl = sub.add_parser("etcdctl", help="run an etcdctl script against a fresh simulated etcd and print "
                                         "what `etcdctl -w json` (v3.5) prints, one line per command")
    ctl.add_argument("-w", "--write-out", default="json", help='output format; only "json" is supported')
    ctl.add_argument("--script", required=True, metavar="FILE", help="one etcdctl command per line")
    app = sub.add_parser("apply", help="create the objects of Kubernetes manifests in a fresh simulated cluster, "
                                       "run it, and print every object (Events included) as a kubectl List")
    app.add_argument("-f", "--filename", action="append", required=True, metavar="FILE",
                     help="a YAML or JSON file (several documents separated by ---), a directory, or - for stdin")
    app.add_argument("--seed", default="1")
    until = app.add_mutually_exclusive_group()
    until.add_argument("--until-idle", action="store_true",
                       help="run until nothing but Lease renewals happens for 5 simulated seconds (the default)")
    until.add_argument("--for", dest="for_seconds", metavar="SECONDS",
                       help="run this many simulated seconds after the last object is created")
    app.add_argument("-o", "--output", default="json", choices=["json", "yaml"])
    app.add_argument("--all", action="store_true", help="also print the objects the bootstrapped cluster held")
    args = ap.parse_args(argv)  # argparse itself exits with 2 on a malformed command line

    if args.cmd == "apply":
        return _apply(args)

    if args.cmd == "etcdctl":
        return _etcdctl(args.write_out, args.script)

    if args.cmd == "scenarios":
        for entry in scenarios.catalog():
            print(_dump(entry))
        return 0
    try:
        seed = int(args.seed)
    except ValueError:
        return _fail(f"--seed: must be an integer, got {args.seed!r}")
    if seed < 0 or seed > 2**63 - 1:
        return _fail("--seed: must be between 0 and 2^63-1")
    speed: float | None = None
    if args.speed != "max":
        try:
            speed = float(args.speed)
        except ValueError:
            return _fail(f"--speed: must be \"max\" or a number, got {args.speed!r}")
        if not (0.01 <= speed <= 100):
            return _fail("--speed: must be between 0.01 and 100, or \"max\"")
    try:
        params = scenarios.validate(args.scenario, _parse_params(args.param, args.scenario))
    except ParamError as e:
        name = "scenario" if e.field == "scenario" else ("--param " + e.field.removeprefix("params.") if e.field.startswith("params.") else e.field)
        return _fail(f"{name}: {e.message}")
    sim = Simulation(args.scenario, params=params, seed=seed, run_id=f"sim-{args.scenario}-{seed}")
    stream = sim.events() if speed is None else paced(sim.events(), speed)
    out = sys.stdout
    try:
        for ev in stream:
            out.write(_dump(ev) + "\n")
            if speed is not None:
                out.flush()
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    return 0


def _etcdctl(write_out: str, script: str) -> int:
    from . import etcdctl

    if write_out != "json":
        return _fail(f"-w: unsupported output format {write_out!r} (only \"json\")")
    try:
        with open(script, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        return _fail(f"--script: cannot read {script!r}: {getattr(e, 'strerror', None) or e}")
    try:
        for line in etcdctl.run(text):
            sys.stdout.write(line + "\n")
    except BrokenPipeError:
        return 0
    return 0


def _apply(args) -> int:
    from . import apply

    try:
        seed = int(args.seed)
    except ValueError:
        return _fail(f"--seed: must be an integer, got {args.seed!r}")
    if seed < 0 or seed > 2**63 - 1:
        return _fail("--seed: must be between 0 and 2^63-1")
    for_seconds = None
    if args.for_seconds is not None:
        try:
            for_seconds = float(args.for_seconds)
        except ValueError:
            return _fail(f"--for: must be a number of seconds, got {args.for_seconds!r}")
        if not (0 <= for_seconds <= 86400):
            return _fail("--for: must be between 0 and 86400 seconds")
    try:
        return apply.run(args.filename, seed=seed, for_seconds=for_seconds, output=args.output, include_all=args.all)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    # This process is ours alone, so the collector may be tuned for the simulator's heap (kernel.
    # tune_gc_for_scale): with CPython's defaults a 5,000-node run spends about 40 % of its time in the
    # cyclic collector rescanning a live heap that holds almost no cycles. Not done inside main(), which
    # tests and other programs call in a process they own. Collection timing never reaches the events.
    from .kernel import tune_gc_for_scale
    tune_gc_for_scale()
    sys.exit(main())
