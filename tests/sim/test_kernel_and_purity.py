"""The discrete-event kernel, and the simulator's purity: no wall clock, no global randomness, no Django."""
import re
from pathlib import Path

from simulator import clock
from simulator.kernel import Environment
from simulator.runner import Simulation

SIM = Path(__file__).resolve().parents[2] / "simulator"


def test_simultaneous_callbacks_run_in_scheduling_order():
    env, seen = Environment(), []
    for name in "abc":
        env.schedule(1.0, lambda n=name: seen.append((env.now, n)))
    env.schedule(0.5, lambda: seen.append((env.now, "first")))
    env.run()
    assert seen == [(0.5, "first"), (1.0, "a"), (1.0, "b"), (1.0, "c")]


def test_processes_wait_for_delays_and_futures():
    env, log = Environment(), []
    fut = env.future()

    def waiter():
        v = yield fut
        log.append(("got", v, env.now))
        return v * 2

    def resolver():
        yield 2.5
        fut.resolve(21)

    done = env.process(waiter())
    env.process(resolver())
    env.run()
    assert log == [("got", 21, 2.5)] and done.value == 42


def test_run_until_a_future_stops_there():
    env = Environment()
    f = env.future()
    env.schedule(1.0, lambda: f.resolve("x"))
    env.schedule(5.0, lambda: None)
    env.run(until=f)
    assert env.now == 1.0 and env.peek() == 5.0


def test_go_duration_formatting():
    assert clock.go_duration(3.2) == "3.2s"
    assert clock.go_duration(4.4669) == "4.466s"  # truncated to the millisecond, like Truncate(time.Millisecond)
    assert clock.go_duration(0.85) == "850ms"
    assert clock.go_duration(62.5) == "1m2.5s"
    assert clock.go_duration(2.0) == "2s"


def test_simulation_interface_of_the_contract():
    sim = Simulation("pod-create", params={"image": "nginx", "pod_name": "nginx"}, seed=11, run_id="abc123")
    gen = sim.events()
    first = next(gen)
    assert first["run"] == "abc123" and first["seq"] == 1 and first["type"] == "scenario.started"
    rest = list(gen)
    assert [e["seq"] for e in rest] == list(range(2, len(rest) + 2))


def _sources():
    return [(p, p.read_text(encoding="utf-8")) for p in SIM.rglob("*.py")]


def test_simulator_never_reads_the_wall_clock_or_global_random():
    for path, src in _sources():
        # The pacing layer is the one place allowed to sleep; the scheduler's throughput harness measures
        # wall time around a simulation (it is a benchmark, not part of one).
        if path.name == "realtime.py" or path.as_posix().endswith("scheduler/perf.py"):
            continue
        assert not re.search(r"^\s*(import time|from time import)", src, re.M), path
        assert "datetime.now" not in src and "utcnow" not in src and "time.time" not in src, path
        calls = re.findall(r"\brandom\.([a-z_]+)\(", src)
        assert set(calls) <= {"Random"}, (path, calls)
        assert "os.urandom" not in src and "uuid.uuid4" not in src, path


def test_simulator_imports_nothing_from_django_or_celery():
    for path, src in _sources():
        assert not re.search(r"^\s*(from|import)\s+(django|celery|channels|redis)\b", src, re.M), path


def test_busybox_is_run_with_a_long_running_command():
    from tests.sim.helpers import run_pod_create
    evs = run_pod_create(2, image="busybox")
    req = next(e for e in evs if e["type"] == "kubectl.request")
    assert req["data"]["body"]["spec"]["containers"][0]["command"] == ["sleep", "3600"]
    assert "--command -- sleep 3600" in req["summary"]
    assert evs[-1]["data"]["outcome"] == "Running"
