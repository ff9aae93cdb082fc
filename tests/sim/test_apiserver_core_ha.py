"""An HA control plane: several API servers share one etcd, each with its own watch cache; a load balancer
spreads requests round-robin over the healthy ones; a stopped instance gets nothing and its watch
streams move to another instance without losing events."""
from __future__ import annotations

import random

from simulator.apiserver.lb import LoadBalancer
from simulator.client import Client
from simulator.trace import ref
from tests.sim.test_apiserver_core import ADMIN, Harness


def _ha():
    h = Harness(apiservers=3)
    lb = LoadBalancer(h.env, random.Random("lb"), h.tracer, h.apis)
    return h, lb, Client(lb, ADMIN)


def _backends(h) -> list[str]:
    return [e["instance"] for e in h.tracer.buffer if e["type"] == "apiserver.response"]


def test_round_robin_over_healthy_instances_and_every_cache_sees_every_write():
    h, lb, c = _ha()
    h.tracer.buffer.clear()
    for i in range(6):
        assert h.call(c.create("configmaps", {"metadata": {"name": f"c{i}"}})).code == 201
    assert _backends(h) == ["apiserver-1", "apiserver-2", "apiserver-3"] * 2
    h.settle()
    for a in h.apis:
        assert [o["metadata"]["name"] for o in a.list("/registry/configmaps/default/")] == [f"c{i}" for i in range(6)]


def test_a_stopped_instance_gets_no_requests_and_relists_when_started():
    h, lb, c = _ha()
    h.apis[1].stop()
    h.tracer.buffer.clear()
    for i in range(4):
        assert h.call(c.create("configmaps", {"metadata": {"name": f"c{i}"}})).code == 201
    assert _backends(h) == ["apiserver-1", "apiserver-3", "apiserver-1", "apiserver-3"]
    assert h.apis[1].get("/registry/configmaps/default/c0") is None
    # A request sent straight to the stopped instance: connection refused.
    assert h.call(Client(h.apis[1], ADMIN).get("configmaps", "c0", "default")).code == 503
    h.apis[1].start()
    assert h.apis[1].get("/registry/configmaps/default/c3") is not None
    h.tracer.buffer.clear()
    for i in range(3):
        h.call(c.get("configmaps", "c0", "default"))
    assert sorted(_backends(h)) == ["apiserver-1", "apiserver-2", "apiserver-3"]


def test_no_healthy_instance_is_503():
    h, lb, c = _ha()
    for a in h.apis:
        a.stop()
    r = h.call(c.get("configmaps", "x", "default"))
    assert r.code == 503


def test_traced_requests_show_the_load_balancer_route():
    h, lb, c = _ha()
    c.traced = True
    h.tracer.buffer.clear()
    h.call(c.create("configmaps", {"metadata": {"name": "c"}}))
    types = [e["type"] for e in h.tracer.buffer]
    assert types[0] == "load-balancer.route"
    assert h.tracer.buffer[0]["data"] == {"backend": "apiserver-1", "healthy": 3}
    assert "apiserver.authn" in types and types[-1] == "apiserver.response"


def test_watch_moves_to_another_instance_when_its_instance_stops():
    h, lb, c = _ha()
    seen = []
    w = lb.watch("configmaps", ref("test", "w"), lambda k, o: seen.append((k, o["metadata"]["name"])))
    assert w.server is h.apis[0]
    h.call(c.create("configmaps", {"metadata": {"name": "a"}}))
    h.settle()
    h.apis[0].stop()
    h.call(c.create("configmaps", {"metadata": {"name": "b"}}))
    h.call(c.delete("configmaps", "a", "default"))
    h.settle()
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    w.stop()
    h.call(c.create("configmaps", {"metadata": {"name": "z"}}))
    h.settle()
    assert seen[-1] == ("DELETED", "a")


def test_ha_runs_are_deterministic():
    def run():
        h, lb, c = _ha()
        for i in range(5):
            h.call(c.create("services", {"metadata": {"name": f"s{i}"}, "spec": {"ports": [{"port": 80}]}}))
        return [(e["type"], e["t"], e["instance"]) for e in h.tracer.buffer], \
            [s["spec"]["clusterIP"] for s in h.apis[0].list("/registry/services/specs/default/")]
    assert run() == run()
