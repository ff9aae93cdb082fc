"""The reducer (simulator/state.py) folded over a run gives the final picture."""
import json

from simulator import state


def test_folding_the_run_gives_the_pod_running_on_the_chosen_node(pod_create_events):
    st = state.initial()
    for e in pod_create_events:
        assert state.apply(st, e) is st
    node = next(e for e in pod_create_events if e["type"] == "scheduler.bind")["data"]["node"]
    pod = st["pods"]["default/nginx"]
    assert pod["phase"] == "Running" and pod["node"] == node and pod["ready"] is True
    assert pod["ip"].startswith("10.244.") and pod["image"] == "nginx"
    assert st["steps_done"] == list(range(1, 11))
    assert st["status"] == "succeeded" and st["seq"] == len(pod_create_events)
    assert "nginx" in st["nodes"][node]["images"]
    assert [e["reason"] for e in st["k8s_events"]] == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    assert st["etcd"]["keys"]["/registry/pods/default/nginx"]["version"] == 4
    assert st["etcd"]["revision"] == max(k["mod_revision"] for k in st["etcd"]["keys"].values())
    json.dumps(st)


def test_snapshot_plus_rest_equals_full_fold(pod_create_events):
    """snapshot(t0) + events(t0..t1) == snapshot(t1), with the snapshot round-tripped through JSON."""
    for cut in (1, 10, 30, len(pod_create_events) - 1):
        st = state.initial()
        for e in pod_create_events[:cut]:
            state.apply(st, e)
        st = json.loads(json.dumps(st))
        for e in pod_create_events[cut:]:
            state.apply(st, e)
        full = state.initial()
        for e in pod_create_events:
            state.apply(full, e)
        assert st == full


def test_pending_before_binding(pod_create_events):
    st = state.initial()
    for e in pod_create_events:
        state.apply(st, e)
        if e["type"] == "scheduler.bind":
            break
    assert st["pods"]["default/nginx"]["phase"] == "Pending" and st["pods"]["default/nginx"]["node"] is None
    assert st["step"] == 7 and st["steps_done"] == [1, 2, 3, 4, 5, 6]


def test_run_cancelled_and_failed():
    st = state.initial()
    state.apply(st, {"seq": 1, "t": 0.5, "type": "run.cancelled", "data": {"by": "instructor"}})
    assert st["status"] == "cancelled"
    state.apply(st, {"seq": 2, "t": 0.6, "type": "run.failed", "data": {"error": "x"}})
    assert st["status"] == "failed"


def test_every_component_of_every_node_is_kept(pod_create_events):
    started = pod_create_events[0]
    st = state.apply(state.initial(), started)
    assert len(st["components"]) == len(started["data"]["components"])
    for node in ("control-plane", "worker-1", "worker-2"):
        for comp in ("kubelet", "kube-proxy", "container-runtime"):
            assert st["components"][f"{comp}/{node}"]["node"] == node


def test_scheduler_panel_state_follows_the_cycle(pod_create_events):
    st = state.initial()
    for e in pod_create_events:
        state.apply(st, e)
    sch = st["scheduler"]
    cyc = sch["cycle"]
    bind = next(e for e in pod_create_events if e["type"] == "scheduler.bind")["data"]["node"]
    assert sch["cycles"] == 1 and cyc["pod"] == "default/nginx"
    assert cyc["selected"] == cyc["bound"] == cyc["reserved"] == bind
    assert sorted(cyc["feasible"]) == ["worker-1", "worker-2"] and cyc["evaluated"] == 3
    assert cyc["filter"]["control-plane"]["TaintToleration"]["code"] == "UnschedulableAndUnresolvable"
    assert cyc["totals"][bind] == max(cyc["totals"].values())
    assert cyc["prefilter"]["NodeAffinity"] == "Skip" and cyc["message"] is None
    assert sch["queues"] == {}


def test_scheduler_panel_state_keeps_the_failed_scheduling_message_and_the_waiting_pod():
    from simulator.apiserver import Request
    from simulator.cluster import ADMIN, Cluster
    from simulator.trace import ref

    c = Cluster(seed=3, run_id="t")
    st = state.initial()
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "64"}}}]}}
    resp = c.call(Request("POST", "/api/v1/namespaces/default/pods", "create", "pods", "default", "huge",
                          body=body, credential=ADMIN, client=ref("kubectl", "kubectl")))
    assert resp.ok
    c.run(until=c.env.now + 5)
    for e in c.tracer.buffer:
        state.apply(st, e)
    cyc = st["scheduler"]["cycle"]
    assert cyc["pod"] == "default/huge" and cyc["feasible"] == []
    assert cyc["message"].startswith("0/3 nodes are available: ") and "2 Insufficient cpu" in cyc["message"]
    assert cyc["postfilter"]["nominated"] is None and cyc.get("selected") is None
    assert st["scheduler"]["queues"] == {"default/huge": "unschedulablePods"}


def test_etcd_panel_state_follows_elections_and_quorum():
    from tests.sim.helpers import run_raft
    events = run_raft(1)
    st = state.initial()
    seen = []
    for e in events:
        state.apply(st, e)
        etcd = st["etcd"]
        seen.append((etcd["leader"], etcd["term"], etcd["quorum"]))
        leaders = [n for n, m in etcd["status"].items() if m["role"] == "leader"]
        assert len(leaders) <= 1 and (not leaders or leaders[0] == etcd["leader"]), (e["seq"], etcd["status"])
    first_leader, first_term, _ = seen[0]
    assert first_leader is not None
    assert any(not q for _, _, q in seen), "quorum was never lost"
    final = st["etcd"]
    assert final["quorum"] and final["leader"] not in (None, first_leader) and final["term"] > first_term
    stopped = [n for n, m in final["status"].items() if not m["running"]]
    assert len(stopped) == 1 and final["status"][stopped[0]]["role"] == "stopped"
    assert final["last"] == {"key": "/registry/configmaps/default/again", "op": "PUT", "revision": final["revision"]}
    assert final["watch"][-1]["key"] == "/registry/configmaps/default/again"


def test_apiserver_panel_state_says_where_each_request_stopped():
    from tests.sim.helpers import run_api
    st = state.initial()
    for e in run_api(1):
        state.apply(st, e)
    api = st["apiserver"]
    got = [(r["path"].rsplit("/", 1)[-1], r["code"], r["stopped"]) for r in api["requests"]]
    assert got == [("pods", 401, "authn"), ("pods", 403, "authz"), ("pods", 422, "validation"), ("pods", 201, None),
                   ("pods", 409, "etcd"), ("resourcequotas", 201, None), ("pods", 403, "admission:ResourceQuota")]
    by_code = {r["code"]: r for r in api["requests"]}
    assert by_code[403]["message"].startswith('pods "over" is forbidden: exceeded quota: two')
    assert [s["stage"] for s in by_code[401]["stages"]] == ["authn"]
    created = api["requests"][3]
    assert created["instance"] == "apiserver-1" and created["stages"][-1] == {
        "stage": "etcd", "decision": "allow", "detail": "/registry/pods/default/ok"}
    assert [s["plugin"] for s in created["stages"] if s["stage"] == "admission" and s["phase"] == "mutating"][:3] == [
        "NamespaceLifecycle", "LimitRanger", "ServiceAccount"]
    assert api["open"] == {} and api["pending"] is None and sum(api["codes"].values()) > 0


def test_controller_panel_state_counts_syncs_and_follows_the_leases():
    from tests.sim.helpers import run_controllers
    events = run_controllers(1)
    st = state.initial()
    state.apply(st, events[0])
    first = dict(st["controllers"]["leases"])
    assert set(first) == {"kube-system/kube-controller-manager", "kube-system/kube-scheduler"}
    assert all(h.startswith("control-plane_") for h in first.values())
    for e in events[1:]:
        state.apply(st, e)
    loops = st["controllers"]["loops"]
    n = {name: sum(1 for e in events if e["type"] == "controller.reconcile" and e["data"]["controller"] == name)
         for name in loops}
    assert set(loops) == {"deployment", "replicaset"} and all(loops[k]["reconciles"] == n[k] for k in loops)
    rs = loops["replicaset"]
    assert rs["desired"] == 1 and rs["action"].startswith("deleted 2 pod(s)")
    assert loops["deployment"]["desired"] is not None   # a status-only sync keeps the last counts
    after = st["controllers"]["leases"]
    assert set(after) == set(first) and all(after[k] != first[k] and after[k] for k in after)
