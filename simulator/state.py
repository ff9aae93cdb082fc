"""The reducer: fold events into a JSON-able snapshot (contract section 4). static/js/state.js implements
the same rules; both are tested against the same recorded runs."""
from __future__ import annotations

import copy
import json

MAX_K8S_EVENTS = 200


def initial() -> dict:
    return {"seq": 0, "t": 0.0, "scenario": None, "status": "pending", "step": 0, "steps_done": [],
            # `api` runs: a real cluster (dashboard/realcluster); its run namespace; the steps it cannot show.
            "backend": "sim", "namespace": TERMINAL_NAMESPACE, "hidden": {},
            # Virtual second 0 on the wall clock, when objects are stamped from it (live cluster, api runs).
            "epoch": None,
            "nodes": {}, "components": {}, "pods": {},
            "etcd": {"members": [], "leader": None, "term": 0, "revision": 0, "keys": {},
                     "status": {}, "quorum": True, "last": None, "watch": [],
                     # A real cluster: where its keys come from ("etcdctl" in the etcd Pod, or "watch"), and
                     # why not etcdctl when it could not be used.
                     "source": None, "source_note": None},
            "k8s_events": [],
            "scheduler": {"cycles": 0, "cycle": None, "queues": {}},
            "apiserver": {"requests": [], "pending": None, "open": {}, "incluster": {}, "codes": {},
                          # A real cluster: why its audit log could not be followed (then no stage is visible).
                          "audit_note": None},
            "terminals": {"pods": [], "events": [], "etcd": []},
            "controllers": {"loops": {}, "leases": {}},
            "sequence": []}


MAX_ARROWS = 300


def _arrow(st: dict, ev: dict) -> None:
    """The sequence diagram: one arrow per event that flows to another component (`to`)."""
    to = ev.get("to")
    if not to or not to.get("component"):
        return
    st["sequence"].append({"seq": ev["seq"], "t": ev["t"], "from": ev["component"], "fi": ev["instance"],
                           "to": to.get("component"), "ti": to.get("instance"), "type": ev["type"],
                           "step": ev.get("step"), "summary": ev.get("summary", "")})
    del st["sequence"][:-MAX_ARROWS]


MAX_TERMINAL_LINES = 200
TERMINAL_NAMESPACE = "default"   # kubectl's namespace when the kubeconfig context names none


def _pod_row(value: dict) -> dict:
    """The columns `kubectl get pods` prints for a Pod, as kubectl's printPod computes them
    (kubernetes pkg/printers/internalversion/printers.go; init containers left out): READY counts the
    containers that are ready and running; STATUS is the phase, overridden by Status.Reason, by a
    container's waiting or terminated reason (the last container's first), and by Terminating while a
    deletionTimestamp is set; RESTARTS sums restartCount (the latest restart's time kept for "(5s ago)").
    AGE is left to the viewer: it is the time of the line minus `created`."""
    meta, spec, status = value.get("metadata") or {}, value.get("spec") or {}, value.get("status") or {}
    reason = status.get("reason") or status.get("phase") or ""
    ready = restarts = 0
    last_restart = None
    has_running = False
    for c in reversed(status.get("containerStatuses") or []):
        restarts += c.get("restartCount") or 0
        finished = ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished
        state = c.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            reason = (f'Signal:{terminated["signal"]}' if terminated.get("signal")
                      else f'ExitCode:{terminated.get("exitCode", 0)}')
        elif c.get("ready") and state.get("running") is not None:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        ok = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        reason = "Running" if ok else "NotReady"
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return {"name": meta.get("name"), "ready": f'{ready}/{len(spec.get("containers") or [])}', "status": reason,
            "restarts": restarts, "last_restart": last_restart if restarts else None,
            "created": meta.get("creationTimestamp")}


def _terminal(st: dict, kind: str, row: dict) -> None:
    lines = st["terminals"][kind]
    lines.append(row)
    del lines[:-MAX_TERMINAL_LINES]


def _terminals(st: dict, ev: dict, typ: str, data: dict, value: dict | None) -> None:
    """What `kubectl get pods -w`, `kubectl get events -w` and `etcdctl watch /registry/ --prefix
    --keys-only` print, line by line, as each write reaches etcd."""
    key = data["key"]
    _terminal(st, "etcd", {"t": ev["t"], "op": "PUT" if typ == "etcd.put" else "DELETE", "key": key})
    ns = st.get("namespace") or TERMINAL_NAMESPACE
    prefix = f"/registry/pods/{ns}/"
    if key.startswith(prefix):
        if value is not None:
            _terminal(st, "pods", {"t": ev["t"], **_pod_row(value)})
        else:   # DELETED: kubectl prints the Pod's last state once more
            last = next((r for r in reversed(st["terminals"]["pods"]) if r["name"] == key[len(prefix):]), None)
            if last is not None:
                _terminal(st, "pods", {**last, "t": ev["t"]})
    elif key.startswith(f"/registry/events/{ns}/") and value is not None:
        inv = value.get("involvedObject") or {}
        # printEvent: LAST SEEN from lastTimestamp, else firstTimestamp, else eventTime (events.k8s.io).
        seen = value.get("lastTimestamp") or value.get("firstTimestamp") or value.get("eventTime")
        _terminal(st, "events", {"t": ev["t"], "last": seen, "type": value.get("type"), "reason": value.get("reason"),
                                 "object": f'{(inv.get("kind") or "").lower()}/{inv.get("name")}',
                                 "message": value.get("message")})


MAX_REQUESTS = 10


def _client(ref: dict | None) -> str:
    ref = ref or {}
    return f'{ref.get("component", "")}/{ref.get("instance", "")}'


def _apiserver(st: dict, ev: dict, typ: str, data: dict) -> None:
    """The API server panel: the recent traced requests stage by stage (authentication, authorization,
    admission plugins, validation, etcd) with where a refused one stopped and its status code, the
    instance that served it (and the load balancer's choice); in-cluster requests counted by code.
    Traced requests start at apiserver.authn on an instance; compact in-cluster ones are announced by
    apiserver.request, so a response to a client with an announced request closes that one instead."""
    api = st["apiserver"]
    if typ == "kubectl.request":
        api["pending"] = {"method": data.get("method"), "path": data.get("path"), "user": data.get("user"),
                          "client": _client({"component": ev["component"], "instance": ev["instance"]}), "lb": None}
        return
    if typ == "load-balancer.route":
        pend = api["pending"] or {"method": None, "path": None, "user": None, "client": None, "lb": None}
        pend["lb"] = {"backend": data.get("backend"), "healthy": data.get("healthy")}
        api["pending"] = pend
        return
    inst = ev["instance"]
    if typ == "apiserver.response" and data.get("source") == "client" and api["pending"] is not None:
        # A real cluster (api backend): its answer is all that can be seen of the pipeline.
        pend, api["pending"] = api["pending"], None
        code = data.get("code")
        api["requests"].append({"id": ev["seq"], "t": ev["t"], "instance": inst, "method": pend["method"],
                                "path": pend["path"], "user": pend["user"], "client": pend["client"], "lb": pend["lb"],
                                "stages": [], "stopped": "handler" if code is not None and code >= 400 else None,
                                "code": code, "message": (data.get("status") or {}).get("message"), "real": True})
        del api["requests"][:-MAX_REQUESTS]
        return
    if typ == "apiserver.request":
        key = f'{(ev.get("to") or {}).get("instance", "")}|{_client({"component": ev["component"], "instance": ev["instance"]})}'
        api["incluster"][key] = api["incluster"].get(key, 0) + 1
        return
    if typ == "apiserver.authn":
        pend = api["pending"] or {"method": None, "path": None, "user": None, "client": None, "lb": None}
        api["pending"] = None
        req = {"id": ev["seq"], "t": ev["t"], "instance": inst, "method": pend["method"], "path": pend["path"],
               "user": data.get("user") or pend["user"], "client": pend["client"], "lb": pend["lb"],
               "stages": [], "stopped": None, "code": None, "message": None}
        if data.get("source") == "audit":
            req["audit"] = True   # a real cluster's request, its stages read from the API server's audit log
        api["requests"].append(req)
        del api["requests"][:-MAX_REQUESTS]
        api["open"][inst] = ev["seq"]
    req = next((r for r in api["requests"] if r["id"] == api["open"].get(inst)), None)
    if typ == "apiserver.response":
        key = f'{inst}|{_client(ev.get("to"))}'
        n = api["incluster"].get(key, 0)
        if n > 0 or req is None:
            if n > 1:
                api["incluster"][key] = n - 1
            else:
                api["incluster"].pop(key, None)
            code = str(data.get("code"))
            api["codes"][code] = api["codes"].get(code, 0) + 1
            return
        req["code"] = data.get("code")
        status = data.get("status") or {}
        req["message"] = status.get("message")
        if req["code"] is not None and req["code"] >= 400 and req["stopped"] is None:
            req["stopped"] = "etcd" if any(s["stage"] == "etcd" for s in req["stages"]) else "handler"
        api["open"].pop(inst, None)
        return
    if req is None or req["code"] is not None:
        return
    if typ == "apiserver.storage" and (any(s["stage"] == "etcd" for s in req["stages"])
                                       or (req["path"] is not None and data.get("path") != req["path"])):
        return  # another request's write on this instance (a traced request stores once, for its own path)
    decision = data.get("decision")
    if typ == "apiserver.authn":
        stage = {"stage": "authn", "decision": decision, "detail": data.get("authenticator")}
    elif typ == "apiserver.authz":
        stage = {"stage": "authz", "decision": decision, "detail": data.get("reason")}
    elif typ == "apiserver.admission":
        stage = {"stage": "admission", "decision": decision, "phase": data.get("phase"), "plugin": data.get("plugin"),
                 "changes": len(data.get("changes") or []), "notes": list(data.get("notes") or [])}
    elif typ == "apiserver.validation":
        stage = {"stage": "validation", "decision": decision, "errors": len(data.get("errors") or [])}
    else:  # apiserver.storage
        stage = {"stage": "etcd", "decision": "allow", "detail": data.get("key")}
    req["stages"].append(stage)
    if decision == "deny" and req["stopped"] is None:
        req["stopped"] = stage["stage"] if stage["stage"] != "admission" else f'admission:{stage["plugin"]}'


MAX_WATCH = 30
_API_TYPES = frozenset(("kubectl.request", "load-balancer.route", "apiserver.request", "apiserver.authn",
                        "apiserver.authz", "apiserver.admission", "apiserver.validation", "apiserver.storage",
                        "apiserver.response"))


def _member(st: dict, name: str) -> dict:
    m = st["etcd"]["status"].get(name)
    if m is None:
        m = st["etcd"]["status"][name] = {"role": "follower", "term": 0, "commit": 0, "running": True}
    return m


def _raft(st: dict, ev: dict, typ: str, data: dict) -> None:
    """The etcd panel's members: role, term, commit index, running; the leader and quorum."""
    etcd, name = st["etcd"], ev["instance"]
    m = _member(st, name)
    if typ == "etcd.raft.election":
        if data.get("phase") == "vote":
            m["role"], m["term"] = "candidate", data.get("term", m["term"])
        else:
            m["role"] = "pre-candidate"
    elif typ == "etcd.raft.vote":
        if data.get("phase") == "vote" and data.get("term", 0) > m["term"]:
            m["term"] = data["term"]
            if m["role"] != "leader":
                m["role"] = "follower"
    elif typ == "etcd.raft.leader":
        for other in etcd["status"].values():
            if other["role"] in ("leader", "candidate", "pre-candidate") and other is not m:
                other["role"] = "follower"
        m["role"], m["term"] = "leader", data.get("term", m["term"])
        etcd["leader"], etcd["term"] = name, m["term"]
    elif typ == "etcd.raft.stepdown":
        m["role"] = "follower"
        if etcd["leader"] == name:
            etcd["leader"] = None
    elif typ == "etcd.raft.commit":
        m["commit"] = data.get("index", m["commit"])
    elif typ == "etcd.member.stopped":
        m["running"], m["role"] = False, "stopped"
        if etcd["leader"] == name:
            etcd["leader"] = None
    elif typ == "etcd.member.started":
        m["running"], m["role"] = True, "follower"
        m["term"], m["commit"] = data.get("term", m["term"]), data.get("commit", m["commit"])
    elif typ == "etcd.quorum.lost":
        etcd["quorum"] = False
    elif typ == "etcd.quorum.regained":
        etcd["quorum"] = True


def _pod_key(ev: dict, data: dict) -> str:
    obj = ev.get("object") or {}
    if obj.get("name"):
        return f'{obj.get("namespace") or "default"}/{obj["name"]}'
    return data.get("pod") or ""


def _new_cycle(sch: dict, pod: str) -> dict:
    sch["cycles"] += 1
    sch["cycle"] = {"n": sch["cycles"], "pod": pod}
    sch["queues"].pop(pod, None)
    return sch["cycle"]


def _scheduler(st: dict, ev: dict, typ: str, data: dict) -> None:
    """The scheduler panel's state: the latest scheduling cycle (PreFilter ... Bind, per node and plugin)
    and where the Pods waiting to be scheduled are (backoffQ, unschedulablePods)."""
    sch = st["scheduler"]
    pod = _pod_key(ev, data)
    cyc = sch["cycle"]
    if typ == "scheduler.queue":
        if data.get("queue") == "activeQ":
            sch["queues"].pop(pod, None)   # popped for a cycle, or moved back to be retried now
        else:
            sch["queues"][pod] = data.get("queue")
        return
    if typ == "scheduler.prefilter" or cyc is None or cyc["pod"] != pod or (typ == "scheduler.filter" and "filter" in cyc):
        cyc = _new_cycle(sch, pod)
    if typ == "scheduler.prefilter":
        cyc["prefilter"] = copy.deepcopy(data.get("results", {}))
    elif typ == "scheduler.filter":
        cyc["filter"] = copy.deepcopy(data.get("nodes", {}))
        cyc["feasible"] = list(data.get("feasible", []))
        cyc["evaluated"] = data.get("evaluated")
        cyc["omitted"] = copy.deepcopy(data.get("omitted"))
        cyc["message"] = data.get("message")
    elif typ == "scheduler.postfilter":
        cyc["postfilter"] = {"nominated": data.get("nominatedNodeName"), "victims": list(data.get("victims", [])),
                             "message": data.get("message")}
    elif typ == "scheduler.prescore":
        cyc["prescore"] = copy.deepcopy(data.get("results", {}))
    elif typ == "scheduler.score":
        cyc["scores"] = copy.deepcopy(data.get("scores", {}))
        cyc["totals"] = copy.deepcopy(data.get("totals", {}))
        cyc["selected"] = data.get("selected")
    elif typ == "scheduler.reserve":
        cyc["reserved"] = data.get("node")
    elif typ == "scheduler.bind":
        cyc["bound"] = data.get("node")


def _done(st: dict, step: int) -> None:
    if step > 0 and step not in st["steps_done"]:
        st["steps_done"].append(step)
        st["steps_done"].sort()


def _node(st: dict, name: str, obj: dict) -> None:
    """A Node object written: a node that joins mid-run appears (with its kubelet, kube-proxy and runtime),
    and every node's readiness and taints follow its object (NotReady, the node-lifecycle taints)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    status = obj.get("status") or {}
    node = st["nodes"].get(name)
    if node is None:
        alloc = status.get("allocatable") or {}
        role = "control-plane" if "node-role.kubernetes.io/control-plane" in labels else "worker"
        node = st["nodes"][name] = {"role": role, "ready": None, "labels": {}, "taints": [],
                                    "allocatable": {k: alloc[k] for k in ("cpu", "memory", "pods") if k in alloc},
                                    "images": []}
        for comp in ("kubelet", "kube-proxy", "container-runtime"):
            st["components"][f"{comp}/{name}"] = {"component": comp, "instance": name, "node": name}
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready":
            node["ready"] = c.get("status") == "True"
    node["labels"] = copy.deepcopy(labels)
    node["taints"] = copy.deepcopy((obj.get("spec") or {}).get("taints") or [])


def _value(v) -> dict:
    """The stored object; tolerate a JSON string, as the JavaScript reducer does."""
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return {}
    return v or {}


def _pod_from(value: dict) -> dict:
    meta, spec, status = value.get("metadata", {}), value.get("spec", {}), value.get("status", {}) or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", []) or [])
    containers = spec.get("containers") or []
    return {"namespace": meta.get("namespace") or "default", "name": meta.get("name"), "uid": meta.get("uid"),
            "phase": status.get("phase") or "Pending", "node": spec.get("nodeName") or None,
            "ip": status.get("podIP") or None, "ready": ready,
            "image": containers[0].get("image") if containers else None}


def apply(st: dict, ev: dict) -> dict:
    st["seq"] = ev["seq"]
    st["t"] = ev["t"]
    typ, data = ev["type"], ev.get("data", {})
    _arrow(st, ev)
    if typ == "scenario.started":
        st["scenario"] = data.get("scenario")
        st["status"] = "running"
        st["backend"] = data.get("backend") or "sim"
        st["namespace"] = data.get("namespace") or TERMINAL_NAMESPACE
        st["epoch"] = data.get("epoch")
        st["hidden"] = {}
        st["apiserver"]["audit_note"] = (data.get("apiserver") or {}).get("audit_note")
        st["nodes"] = {n["name"]: {"role": n["role"], "ready": n.get("ready"), "labels": copy.deepcopy(n.get("labels", {})),
                                   "taints": copy.deepcopy(n.get("taints", [])),
                                   "allocatable": copy.deepcopy(n.get("allocatable", {})), "images": []}
                       for n in data.get("nodes", [])}
        # Keyed by "component/instance": a node's kubelet, kube-proxy and container runtime share the
        # node's name as their instance.
        st["components"] = {f'{c["component"]}/{c["instance"]}': {"component": c["component"], "instance": c["instance"],
                                                                  "node": c.get("node")}
                            for c in data.get("components", [])}
        st["controllers"] = {"loops": {}, "leases": {x["lease"]: x["holder"] for x in data.get("leases", [])}}
        e = data.get("etcd", {})
        st["etcd"] = {"members": list(e.get("members", [])), "leader": e.get("leader"), "term": e.get("term", 0),
                      "revision": e.get("revision", 0),
                      "keys": {k["key"]: {"create_revision": k["create_revision"], "mod_revision": k["mod_revision"],
                                          "version": k["version"]} for k in data.get("keys", [])},
                      "status": {m["name"]: {"role": m["role"], "term": m["term"], "commit": m["commit"],
                                             "running": m["running"]} for m in e.get("status", [])},
                      "quorum": True, "last": None, "watch": [], "source": e.get("source"),
                      "source_note": e.get("source_note")}
    elif typ == "controller.reconcile":
        # The controller panel: per controller, the last sync (desired vs current, what it did, its queue)
        # and how many syncs so far (the reconcile loop's turns).
        loops = st["controllers"]["loops"]
        name = data.get("controller") or ""
        prev = loops.get(name) or {"reconciles": 0}
        loops[name] = {"reconciles": prev["reconciles"] + 1, "t": ev["t"], "instance": ev["instance"],
                       "key": data.get("key"),
                       # a sync that only updated status (or lost a race) says nothing of the counts: keep the last
                       "desired": data["desired"] if data.get("desired") is not None else prev.get("desired"),
                       "current": data["current"] if data.get("current") is not None else prev.get("current"),
                       "action": data.get("action"), "queue": data.get("queue")}
    elif typ == "leaderelection":
        leases = st["controllers"]["leases"]
        lease = data.get("lease") or ""
        if data.get("action") == "acquired":
            leases[lease] = data.get("holder")
        elif lease in leases and leases[lease] == data.get("holder"):
            leases[lease] = None
    elif typ == "scenario.step":
        n = data.get("step", ev.get("step", 0))
        if data.get("hidden"):
            st["hidden"][str(n)] = data["hidden"]
        if n > st["step"]:
            _done(st, st["step"])
            st["step"] = n
    elif typ == "etcd.put":
        key = data["key"]
        st["etcd"]["revision"] = data["revision"]
        st["etcd"]["keys"][key] = {"create_revision": data["create_revision"], "mod_revision": data["mod_revision"],
                                   "version": data["version"]}
        st["etcd"]["last"] = {"key": key, "op": "PUT", "revision": data["revision"]}
        value = _value(data.get("value"))
        _terminals(st, ev, typ, data, value)
        if key.startswith("/registry/pods/"):
            ns, name = key[len("/registry/pods/"):].split("/", 1)
            pod = _pod_from(value)
            pod["namespace"] = pod["namespace"] or ns
            pod["name"] = pod["name"] or name
            st["pods"][f"{ns}/{name}"] = pod
        elif key.startswith("/registry/events/"):
            inv = value.get("involvedObject", {})
            st["k8s_events"].append({"reason": value.get("reason"), "type": value.get("type"),
                                     "object": f'{(inv.get("kind") or "pod").lower()}/{inv.get("name")}',
                                     "message": value.get("message"), "t": ev["t"]})
            del st["k8s_events"][:-MAX_K8S_EVENTS]
        elif key.startswith("/registry/minions/") and value:
            _node(st, key[len("/registry/minions/"):], value)
    elif typ == "etcd.delete":
        key = data["key"]
        st["etcd"]["revision"] = data["revision"]
        st["etcd"]["keys"].pop(key, None)
        st["etcd"]["last"] = {"key": key, "op": "DELETE", "revision": data["revision"]}
        _terminals(st, ev, typ, data, None)
        if key.startswith("/registry/pods/"):
            st["pods"].pop(key[len("/registry/pods/"):], None)
    elif typ.startswith(("etcd.raft.", "etcd.member.", "etcd.quorum.")):
        _raft(st, ev, typ, data)
    elif typ == "apiserver.watch":
        st["etcd"]["watch"].append({"t": ev["t"], "event": data.get("event"), "key": data.get("key"),
                                    "rv": data.get("resourceVersion"), "to": (ev.get("to") or {}).get("instance")})
        del st["etcd"]["watch"][:-MAX_WATCH]
    elif typ.startswith("scheduler."):
        _scheduler(st, ev, typ, data)
    elif typ in _API_TYPES:
        _apiserver(st, ev, typ, data)
    elif typ == "summary.interval":
        # Bindings counted instead of sent one by one (large runs): per node, for the cluster map.
        for name, n in (data.get("bound") or {}).items():
            node = st["nodes"].get(name)
            if node is not None:
                node["bound"] = node.get("bound", 0) + n
    elif typ == "component.lifecycle":
        # A control-plane component stopped or started with its node (drawn stopped on the diagram).
        comp = st["components"].get(f'{ev["component"]}/{ev["instance"]}')
        if comp is not None:
            comp["running"] = data.get("state") != "stopped"
    elif typ == "kubelet.lifecycle":
        # The node as the control plane sees it: its kubelet stopped (no heartbeats) or started again.
        node = st["nodes"].get(ev["instance"])
        if node is not None:
            node["kubelet"] = data.get("state")
    elif typ == "kubelet.image.pulled":
        node = st["nodes"].get(ev["instance"])
        if node is not None and data.get("image") not in node["images"]:
            node["images"].append(data["image"])
    elif typ == "scenario.completed":
        st["status"] = "succeeded"
        _done(st, st["step"])
    elif typ == "run.cancelled":
        st["status"] = "cancelled"
    elif typ == "run.failed":
        st["status"] = "failed"
    return st
