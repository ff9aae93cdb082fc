"""The pod-create scenario follows the lesson's ten steps, in order, with the events the contract names."""
from simulator.events import SCHEMA_VERSION, TYPES

KEY_ORDER = ["v", "run", "seq", "t", "component", "instance", "type", "to", "object", "step", "summary", "data"]


def test_events_follow_schema_v1(pod_create_events):
    for i, e in enumerate(pod_create_events, start=1):
        assert e["v"] == SCHEMA_VERSION and e["seq"] == i and e["run"] == "sim-pod-create-1"
        keys = list(e)
        assert keys == [k for k in KEY_ORDER if k in e], keys
        assert e["type"] in TYPES
        assert e["t"] == round(e["t"], 3)
    ts = [e["t"] for e in pod_create_events]
    assert ts == sorted(ts)


def test_steps_1_to_10_each_open_with_a_checkpoint_in_order(pod_create_events):
    marks = [e for e in pod_create_events if e["type"] == "scenario.step"]
    assert [m["data"]["step"] for m in marks] == list(range(1, 11))
    assert all(m["step"] == m["data"]["step"] for m in marks)
    current = 0
    for e in pod_create_events:
        if e["type"] == "scenario.step":
            current = e["step"]
        elif e["type"].startswith("scenario."):
            assert "step" not in e
        else:
            assert e.get("step") == current, e


def test_first_and_last_events(pod_create_events):
    first, last = pod_create_events[0], pod_create_events[-1]
    assert first["type"] == "scenario.started"
    assert last["type"] == "scenario.completed" and last["data"]["outcome"] == "Running"
    assert last["data"]["duration"] == last["t"]
    started = first["data"]
    assert {n["name"] for n in started["nodes"]} == {"control-plane", "worker-1", "worker-2"}
    assert started["etcd"]["members"] == ["etcd-1"] and started["etcd"]["leader"] == "etcd-1"
    keys = {k["key"] for k in started["keys"]}
    assert {"/registry/namespaces/default", "/registry/minions/worker-1", "/registry/serviceaccounts/default/default",
            "/registry/clusterrolebindings/kubeadm:cluster-admins"} <= keys
    assert started["etcd"]["revision"] == max(k["mod_revision"] for k in started["keys"])


def test_pod_is_stored_in_etcd_before_the_scheduler_binds_it(pod_create_events):
    types = [(e["type"], e["data"].get("key")) for e in pod_create_events]
    put = types.index(("etcd.put", "/registry/pods/default/nginx"))
    bind = next(i for i, (t, _) in enumerate(types) if t == "scheduler.bind")
    assert put < bind


def test_each_step_has_its_key_event(pod_create_events):
    by_step = {}
    for e in pod_create_events:
        if "step" in e:
            by_step.setdefault(e["step"], []).append(e["type"])
    assert by_step[1][1] == "kubectl.request"
    assert {"apiserver.authn", "apiserver.authz"} <= set(by_step[2])
    assert "apiserver.admission" in by_step[3] and "apiserver.validation" in by_step[3]
    assert {"apiserver.storage", "etcd.put", "apiserver.response"} <= set(by_step[4])
    assert {"apiserver.watch", "controller-manager.informer"} <= set(by_step[5])
    assert {"scheduler.queue", "scheduler.filter", "scheduler.score"} <= set(by_step[6])
    assert {"scheduler.bind", "apiserver.request", "etcd.put"} <= set(by_step[7])
    assert {"kubelet.pod.sync", "container-runtime.sandbox", "kubelet.image.pulling", "kubelet.image.pulled"} <= set(by_step[8])
    assert {"container-runtime.container.created", "container-runtime.container.started"} <= set(by_step[9])
    assert {"kubelet.status", "etcd.put", "apiserver.watch"} <= set(by_step[10])


def test_controller_manager_sees_the_bare_pod_but_does_nothing(pod_create_events):
    inf = [e for e in pod_create_events if e["type"] == "controller-manager.informer"]
    assert len(inf) == 1
    d = inf[0]["data"]
    assert d["event"] == "ADDED" and d["action"] == "none" and "replicaset" in d["controllers"]
    assert "scheduler" in d["reason"]


def test_kubelets_only_hear_of_pods_bound_to_their_node(pod_create_events):
    bind = next(e for e in pod_create_events if e["type"] == "scheduler.bind")
    node = bind["data"]["node"]
    kubelet_watches = [e for e in pod_create_events if e["type"] == "apiserver.watch"
                       and e["to"]["component"] == "kubelet"]
    assert kubelet_watches and all(e["to"]["instance"] == node for e in kubelet_watches)
    assert all(e["seq"] > bind["seq"] for e in kubelet_watches)
    # Entering the kubelet's field selector (spec.nodeName=<node>) is an ADDED for that watch.
    assert kubelet_watches[0]["data"]["event"] == "ADDED"


def test_kubernetes_event_objects_have_the_real_reasons_and_messages(pod_create_events):
    evs = [(e["data"]["value"]["reason"], e["data"]["value"]["message"], e["data"]["key"])
           for e in pod_create_events if e["type"] == "etcd.put" and e["data"]["key"].startswith("/registry/events/")]
    node = next(e for e in pod_create_events if e["type"] == "scheduler.bind")["data"]["node"]
    reasons = [r for r, _, _ in evs]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    msgs = dict((r, m) for r, m, _ in evs)
    assert msgs["Scheduled"] == f"Successfully assigned default/nginx to {node}"
    assert msgs["Pulling"] == 'Pulling image "nginx"'
    assert msgs["Pulled"].startswith('Successfully pulled image "nginx" in ')
    assert "including waiting). Image size: " in msgs["Pulled"] and msgs["Pulled"].endswith(" bytes.")
    assert msgs["Created"] == "Created container nginx"
    assert msgs["Started"] == "Started container nginx"
    for _, _, key in evs:
        name = key.rsplit("/", 1)[1]
        assert name.startswith("nginx.") and int(name.split(".", 1)[1], 16) > 0


def test_timings_are_realistic_at_1x(pod_create_events):
    t = {e["type"]: e["t"] for e in reversed(pod_create_events)}  # first occurrence
    assert 0.0 < t["kubectl.request"] < 0.2
    assert t["apiserver.storage"] - t["apiserver.authn"] < 0.5           # authn..admission ~0.2 s
    assert 0.05 < t["etcd.put"] - t["apiserver.storage"] < 0.2            # etcd write ~0.1 s
    assert 0.1 < t["scheduler.bind"] - t["scheduler.queue"] < 0.5          # scheduling ~0.3 s
    pulled = next(e for e in pod_create_events if e["type"] == "kubelet.image.pulled")
    assert 2.0 < pulled["data"]["duration"] < 8.0                           # nginx, ~72 MB
    assert 0.8 < t["container-runtime.container.started"] - t["kubelet.image.pulled"] < 3.5
    assert pod_create_events[-1]["t"] < 15
