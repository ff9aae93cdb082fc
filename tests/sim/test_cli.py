"""python -m simulator, run as a subprocess."""
import json
import subprocess
import sys
from pathlib import Path

from simulator import scenarios

ROOT = Path(__file__).resolve().parents[2]


def sim(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_run_prints_compact_json_lines_with_the_cli_run_id():
    r = sim("run", "pod-create", "--seed", "3", "--param", "image=busybox")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    evs = [json.loads(line) for line in lines]
    assert all(e["run"] == "sim-pod-create-3" for e in evs)
    assert lines[0] == json.dumps(evs[0], separators=(",", ":"), ensure_ascii=False)
    assert evs[0]["data"]["params"] == {"image": "busybox", "pod_name": "nginx"}
    assert evs[-1]["data"]["outcome"] == "Running"


def test_scenarios_lists_the_catalog():
    r = sim("scenarios")
    assert r.returncode == 0
    entries = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["id"] for e in entries] == [e["id"] for e in scenarios.catalog()]
    assert entries[0]["id"] == "pod-create"


def test_bad_input_exits_2_naming_the_argument():
    cases = [
        (("run", "no-such-scenario"), "scenario"),
        (("run", "pod-create", "--param", "image=ubuntu"), "image"),
        (("run", "pod-create", "--param", "colour=red"), "colour"),
        (("run", "pod-create", "--param", "pod_name=Bad_Name"), "pod_name"),
        (("run", "pod-create", "--param", "novalue"), "--param"),
        (("run", "pod-create", "--seed", "abc"), "--seed"),
        (("run", "pod-create", "--speed", "fast"), "--speed"),
        (("run", "pod-create", "--speed", "0"), "--speed"),
        (("frobnicate",), "frobnicate"),
    ]
    for args, named in cases:
        r = sim(*args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert named in r.stderr, (args, r.stderr)
        assert r.stdout == ""


def test_speed_paces_by_the_wall_clock():
    from simulator.realtime import paced
    now = [0.0]
    slept = []
    evs = [{"t": 0.0}, {"t": 1.0}, {"t": 2.5}]
    out = list(paced(evs, 2.0, clock=lambda: now[0], sleep=lambda d: (slept.append(d), now.__setitem__(0, now[0] + d))))
    assert out == evs and slept == [0.5, 0.75]
