// The reducer of contract section 4: the folded cluster state. It mirrors simulator/state.py exactly:
// snapshot(seq N) + events(N+1..M) must equal snapshot(M) in both languages (tests/browser/test_reducer.py
// checks this against recorded simulator runs). Keep the two in step when either changes.

const K8S_EVENTS_KEPT = 200;

export function initial() {
  return {
    seq: 0, t: 0.0, scenario: null, status: "pending", step: 0, steps_done: [],
    backend: "sim", namespace: TERMINAL_NAMESPACE, hidden: {}, epoch: null,
    nodes: {}, components: {}, pods: {},
    etcd: { members: [], leader: null, term: 0, revision: 0, keys: {}, status: {}, quorum: true, last: null, watch: [], source: null, source_note: null },
    k8s_events: [],
    scheduler: { cycles: 0, cycle: null, queues: {} },
    apiserver: { requests: [], pending: null, open: {}, incluster: {}, codes: {}, audit_note: null },
    terminals: { pods: [], events: [], etcd: [] },
    controllers: { loops: {}, leases: {} },
    sequence: [],
  };
}

const ARROWS_KEPT = 300;

// The sequence diagram: one arrow per event that flows to another component (mirrors state.py _arrow).
function applyArrow(st, ev) {
  const to = ev.to;
  if (!to || !to.component) return;
  st.sequence.push({ seq: ev.seq, t: ev.t, from: ev.component, fi: ev.instance, to: to.component ?? null,
    ti: to.instance ?? null, type: ev.type, step: ev.step ?? null, summary: ev.summary ?? "" });
  if (st.sequence.length > ARROWS_KEPT) st.sequence.splice(0, st.sequence.length - ARROWS_KEPT);
}

const TERMINAL_LINES = 200;
const TERMINAL_NAMESPACE = "default";

// The columns `kubectl get pods` prints for a Pod (kubectl's printPod; mirrors state.py _pod_row).
function podRow(value) {
  const meta = value.metadata || {};
  const spec = value.spec || {};
  const status = value.status || {};
  let reason = status.reason || status.phase || "";
  let ready = 0;
  let restarts = 0;
  let lastRestart = null;
  let hasRunning = false;
  const statuses = status.containerStatuses || [];
  for (let i = statuses.length - 1; i >= 0; i--) {
    const c = statuses[i];
    restarts += c.restartCount || 0;
    const finished = ((c.lastState || {}).terminated || {}).finishedAt;
    if (finished && (lastRestart === null || finished > lastRestart)) lastRestart = finished;
    const state = c.state || {};
    const waiting = state.waiting;
    const terminated = state.terminated;
    if (waiting && waiting.reason) reason = waiting.reason;
    else if (terminated && terminated.reason) reason = terminated.reason;
    else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
    else if (c.ready && state.running != null) { hasRunning = true; ready += 1; }
  }
  if (reason === "Completed" && hasRunning) {
    const ok = (status.conditions || []).some((c) => c.type === "Ready" && c.status === "True");
    reason = ok ? "Running" : "NotReady";
  }
  if (meta.deletionTimestamp) reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  return { name: meta.name ?? null, ready: `${ready}/${(spec.containers || []).length}`, status: reason,
    restarts, last_restart: restarts ? lastRestart : null, created: meta.creationTimestamp ?? null };
}

function terminalLine(st, kind, row) {
  const lines = st.terminals[kind];
  lines.push(row);
  if (lines.length > TERMINAL_LINES) lines.splice(0, lines.length - TERMINAL_LINES);
}

// What `kubectl get pods -w`, `kubectl get events -w` and `etcdctl watch /registry/ --prefix --keys-only`
// print, line by line (mirrors state.py _terminals).
function applyTerminals(st, ev, key, value) {
  terminalLine(st, "etcd", { t: ev.t, op: ev.type === "etcd.put" ? "PUT" : "DELETE", key });
  const ns = st.namespace || TERMINAL_NAMESPACE;
  const prefix = `/registry/pods/${ns}/`;
  if (key.startsWith(prefix)) {
    if (value !== null) terminalLine(st, "pods", { t: ev.t, ...podRow(value) });
    else {
      const name = key.slice(prefix.length);
      const last = [...st.terminals.pods].reverse().find((r) => r.name === name);
      if (last) terminalLine(st, "pods", { ...last, t: ev.t });
    }
  } else if (key.startsWith(`/registry/events/${ns}/`) && value !== null) {
    const inv = value.involvedObject || {};
    const seen = value.lastTimestamp || value.firstTimestamp || value.eventTime || null;
    terminalLine(st, "events", { t: ev.t, last: seen, type: value.type ?? null, reason: value.reason ?? null,
      object: `${(inv.kind || "").toLowerCase()}/${inv.name}`, message: value.message ?? null });
  }
}

const REQUESTS_KEPT = 10;
const API_TYPES = new Set(["kubectl.request", "load-balancer.route", "apiserver.request", "apiserver.authn",
  "apiserver.authz", "apiserver.admission", "apiserver.validation", "apiserver.storage", "apiserver.response"]);

const clientOf = (ref) => `${(ref || {}).component ?? ""}/${(ref || {}).instance ?? ""}`;
const emptyPending = () => ({ method: null, path: null, user: null, client: null, lb: null });

// The API server panel (mirrors state.py _apiserver): recent traced requests stage by stage, where a
// refused one stopped and its code, the serving instance; in-cluster requests counted by code.
function applyApiserver(st, ev, d) {
  const api = st.apiserver;
  const typ = ev.type;
  if (typ === "kubectl.request") {
    api.pending = { method: d.method ?? null, path: d.path ?? null, user: d.user ?? null,
      client: clientOf({ component: ev.component, instance: ev.instance }), lb: null };
    return;
  }
  if (typ === "load-balancer.route") {
    const pend = api.pending || emptyPending();
    pend.lb = { backend: d.backend ?? null, healthy: d.healthy ?? null };
    api.pending = pend;
    return;
  }
  const inst = ev.instance;
  if (typ === "apiserver.response" && d.source === "client" && api.pending !== null) {
    // A real cluster (api backend): its answer is all that can be seen of the pipeline (mirrors state.py).
    const pend = api.pending;
    api.pending = null;
    const code = d.code ?? null;
    api.requests.push({ id: ev.seq, t: ev.t, instance: inst, method: pend.method, path: pend.path, user: pend.user,
      client: pend.client, lb: pend.lb, stages: [], stopped: code !== null && code >= 400 ? "handler" : null,
      code, message: (d.status || {}).message ?? null, real: true });
    if (api.requests.length > REQUESTS_KEPT) api.requests.splice(0, api.requests.length - REQUESTS_KEPT);
    return;
  }
  if (typ === "apiserver.request") {
    const key = `${(ev.to || {}).instance ?? ""}|${clientOf({ component: ev.component, instance: ev.instance })}`;
    api.incluster[key] = (api.incluster[key] || 0) + 1;
    return;
  }
  if (typ === "apiserver.authn") {
    const pend = api.pending || emptyPending();
    api.pending = null;
    const req = { id: ev.seq, t: ev.t, instance: inst, method: pend.method, path: pend.path,
      user: d.user || pend.user, client: pend.client, lb: pend.lb, stages: [], stopped: null, code: null, message: null };
    if (d.source === "audit") req.audit = true;   // a real cluster's, its stages from the audit log (as state.py)
    api.requests.push(req);
    if (api.requests.length > REQUESTS_KEPT) api.requests.splice(0, api.requests.length - REQUESTS_KEPT);
    api.open[inst] = ev.seq;
  }
  const req = api.requests.find((r) => r.id === api.open[inst]) || null;
  if (typ === "apiserver.response") {
    const key = `${inst}|${clientOf(ev.to)}`;
    const n = api.incluster[key] || 0;
    if (n > 0 || req === null) {
      if (n > 1) api.incluster[key] = n - 1;
      else delete api.incluster[key];
      const code = String(d.code ?? null);
      api.codes[code] = (api.codes[code] || 0) + 1;
      return;
    }
    req.code = d.code ?? null;
    req.message = (d.status || {}).message ?? null;
    if (req.code !== null && req.code >= 400 && req.stopped === null) {
      req.stopped = req.stages.some((s) => s.stage === "etcd") ? "etcd" : "handler";
    }
    delete api.open[inst];
    return;
  }
  if (req === null || req.code !== null) return;
  // Another request's write on this instance: a traced request stores once, for its own path.
  if (typ === "apiserver.storage" && (req.stages.some((s) => s.stage === "etcd") || (req.path !== null && (d.path ?? null) !== req.path))) return;
  const decision = d.decision ?? null;
  let stage;
  if (typ === "apiserver.authn") stage = { stage: "authn", decision, detail: d.authenticator ?? null };
  else if (typ === "apiserver.authz") stage = { stage: "authz", decision, detail: d.reason ?? null };
  else if (typ === "apiserver.admission") {
    stage = { stage: "admission", decision, phase: d.phase ?? null, plugin: d.plugin ?? null,
      changes: (d.changes || []).length, notes: [...(d.notes || [])] };
  } else if (typ === "apiserver.validation") stage = { stage: "validation", decision, errors: (d.errors || []).length };
  else stage = { stage: "etcd", decision: "allow", detail: d.key ?? null };
  req.stages.push(stage);
  if (decision === "deny" && req.stopped === null) {
    req.stopped = stage.stage !== "admission" ? stage.stage : `admission:${stage.plugin}`;
  }
}

const WATCH_KEPT = 30;

function member(st, name) {
  let m = st.etcd.status[name];
  if (m === undefined) m = st.etcd.status[name] = { role: "follower", term: 0, commit: 0, running: true };
  return m;
}

// The etcd panel's members: role, term, commit index, running; the leader and quorum. Mirrors state.py _raft.
function applyRaft(st, ev, d) {
  const etcd = st.etcd;
  const name = ev.instance;
  const m = member(st, name);
  switch (ev.type) {
    case "etcd.raft.election":
      if (d.phase === "vote") { m.role = "candidate"; m.term = d.term ?? m.term; } else m.role = "pre-candidate";
      break;
    case "etcd.raft.vote":
      if (d.phase === "vote" && (d.term ?? 0) > m.term) {
        m.term = d.term;
        if (m.role !== "leader") m.role = "follower";
      }
      break;
    case "etcd.raft.leader":
      for (const other of Object.values(etcd.status)) {
        if (other !== m && ["leader", "candidate", "pre-candidate"].includes(other.role)) other.role = "follower";
      }
      m.role = "leader";
      m.term = d.term ?? m.term;
      etcd.leader = name;
      etcd.term = m.term;
      break;
    case "etcd.raft.stepdown":
      m.role = "follower";
      if (etcd.leader === name) etcd.leader = null;
      break;
    case "etcd.raft.commit":
      m.commit = d.index ?? m.commit;
      break;
    case "etcd.member.stopped":
      m.running = false;
      m.role = "stopped";
      if (etcd.leader === name) etcd.leader = null;
      break;
    case "etcd.member.started":
      m.running = true;
      m.role = "follower";
      m.term = d.term ?? m.term;
      m.commit = d.commit ?? m.commit;
      break;
    case "etcd.quorum.lost":
      etcd.quorum = false;
      break;
    case "etcd.quorum.regained":
      etcd.quorum = true;
      break;
    default:
      break;
  }
}

function podKey(ev, d) {
  const obj = ev.object || {};
  if (obj.name) return `${obj.namespace || "default"}/${obj.name}`;
  return d.pod || "";
}

function newCycle(sch, pod) {
  sch.cycles += 1;
  sch.cycle = { n: sch.cycles, pod };
  delete sch.queues[pod];
  return sch.cycle;
}

const clone = (v) => (v === undefined ? null : structuredClone(v));

// The scheduler panel's state: the latest scheduling cycle (PreFilter ... Bind, per node and plugin) and
// where the Pods waiting to be scheduled are (backoffQ, unschedulablePods). Mirrors state.py _scheduler.
function applyScheduler(st, ev, d) {
  const sch = st.scheduler;
  const pod = podKey(ev, d);
  let cyc = sch.cycle;
  if (ev.type === "scheduler.queue") {
    if (d.queue === "activeQ") delete sch.queues[pod];
    else sch.queues[pod] = d.queue ?? null;
    return;
  }
  if (ev.type === "scheduler.prefilter" || cyc === null || cyc.pod !== pod || (ev.type === "scheduler.filter" && "filter" in cyc)) {
    cyc = newCycle(sch, pod);
  }
  switch (ev.type) {
    case "scheduler.prefilter":
      cyc.prefilter = clone(d.results ?? {});
      break;
    case "scheduler.filter":
      cyc.filter = clone(d.nodes ?? {});
      cyc.feasible = [...(d.feasible || [])];
      cyc.evaluated = d.evaluated ?? null;
      cyc.omitted = clone(d.omitted);
      cyc.message = d.message ?? null;
      break;
    case "scheduler.postfilter":
      cyc.postfilter = { nominated: d.nominatedNodeName ?? null, victims: [...(d.victims || [])], message: d.message ?? null };
      break;
    case "scheduler.prescore":
      cyc.prescore = clone(d.results ?? {});
      break;
    case "scheduler.score":
      cyc.scores = clone(d.scores ?? {});
      cyc.totals = clone(d.totals ?? {});
      cyc.selected = d.selected ?? null;
      break;
    case "scheduler.reserve":
      cyc.reserved = d.node ?? null;
      break;
    case "scheduler.bind":
      cyc.bound = d.node ?? null;
      break;
    default:
      break;
  }
}

function addStepDone(st, n) {
  if (n > 0 && !st.steps_done.includes(n)) {
    st.steps_done.push(n);
    st.steps_done.sort((a, b) => a - b);
  }
}

function parseValue(value) {
  if (typeof value === "string") {
    try { return JSON.parse(value); } catch { return {}; }
  }
  return value || {};
}

function podFromObject(obj) {
  const meta = obj.metadata || {};
  const spec = obj.spec || {};
  const status = obj.status || {};
  const containers = spec.containers || [];
  const ready = (status.conditions || []).some((c) => c.type === "Ready" && c.status === "True");
  return {
    namespace: meta.namespace || "default",
    name: meta.name,
    uid: meta.uid ?? null,
    phase: status.phase || "Pending",
    node: spec.nodeName || null,
    ip: status.podIP || null,
    ready,
    image: containers.length ? containers[0].image ?? null : null,
  };
}

// Mutates st in place and returns it, like state.apply in Python.
// A Node object written: a node that joins mid-run appears (with its kubelet, kube-proxy and runtime), and
// every node's readiness and taints follow its object (NotReady, the node-lifecycle taints).
function nodeObject(st, name, obj) {
  const labels = (obj.metadata || {}).labels || {};
  const status = obj.status || {};
  let node = st.nodes[name];
  if (!node) {
    const alloc = status.allocatable || {};
    const allocatable = {};
    for (const k of ["cpu", "memory", "pods"]) if (k in alloc) allocatable[k] = alloc[k];
    const role = "node-role.kubernetes.io/control-plane" in labels ? "control-plane" : "worker";
    node = st.nodes[name] = { role, ready: null, labels: {}, taints: [], allocatable, images: [] };
    for (const comp of ["kubelet", "kube-proxy", "container-runtime"]) {
      st.components[`${comp}/${name}`] = { component: comp, instance: name, node: name };
    }
  }
  for (const c of status.conditions || []) {
    if (c.type === "Ready") node.ready = c.status === "True";
  }
  node.labels = structuredClone(labels);
  node.taints = structuredClone((obj.spec || {}).taints || []);
}

export function apply(st, ev) {
  st.seq = ev.seq;
  st.t = ev.t;
  const d = ev.data || {};
  applyArrow(st, ev);
  switch (ev.type) {
    case "scenario.started": {
      st.scenario = d.scenario ?? null;
      st.status = "running";
      st.backend = d.backend || "sim";
      st.namespace = d.namespace || TERMINAL_NAMESPACE;
      st.epoch = d.epoch ?? null;
      st.hidden = {};
      st.apiserver.audit_note = (d.apiserver || {}).audit_note ?? null;
      st.nodes = {};
      for (const n of d.nodes || []) {
        st.nodes[n.name] = {
          role: n.role, ready: n.ready ?? null, labels: structuredClone(n.labels || {}),
          taints: structuredClone(n.taints || []), allocatable: structuredClone(n.allocatable || {}), images: [],
        };
      }
      st.components = {};
      // Keyed by "component/instance": a node's kubelet, kube-proxy and runtime share the node's name.
      for (const c of d.components || []) {
        st.components[`${c.component}/${c.instance}`] = { component: c.component, instance: c.instance, node: c.node ?? null };
      }
      const etcd = d.etcd || {};
      const keys = {};
      for (const k of d.keys || []) {
        keys[k.key] = { create_revision: k.create_revision, mod_revision: k.mod_revision, version: k.version };
      }
      const leases = {};
      for (const x of d.leases || []) leases[x.lease] = x.holder ?? null;
      st.controllers = { loops: {}, leases };
      const status = {};
      for (const m of etcd.status || []) status[m.name] = { role: m.role, term: m.term, commit: m.commit, running: m.running };
      st.etcd = {
        // term: null when not known (a real cluster's Raft is not visible), as in state.py
        members: [...(etcd.members || [])], leader: etcd.leader ?? null, term: "term" in etcd ? etcd.term : 0,
        revision: etcd.revision ?? 0, keys, status, quorum: true, last: null, watch: [], source: etcd.source ?? null,
        source_note: etcd.source_note ?? null,
      };
      break;
    }
    case "controller.reconcile": {
      // The controller panel (mirrors state.py): the last sync per controller and how many so far.
      const loops = st.controllers.loops;
      const name = d.controller || "";
      const prev = loops[name] || { reconciles: 0 };
      loops[name] = { reconciles: prev.reconciles + 1, t: ev.t, instance: ev.instance, key: d.key ?? null,
        desired: d.desired ?? prev.desired ?? null, current: d.current ?? prev.current ?? null,
        action: d.action ?? null, queue: d.queue ?? null };
      break;
    }
    case "leaderelection": {
      const leases = st.controllers.leases;
      const lease = d.lease || "";
      if (d.action === "acquired") leases[lease] = d.holder ?? null;
      else if (lease in leases && leases[lease] === (d.holder ?? null)) leases[lease] = null;
      break;
    }
    case "scenario.step": {
      const n = d.step ?? ev.step;
      if (d.hidden) st.hidden[String(n)] = d.hidden;
      if (n > st.step) {
        addStepDone(st, st.step);
        st.step = n;
      }
      break;
    }
    case "etcd.put": {
      const key = d.key;
      st.etcd.revision = d.revision;
      st.etcd.keys[key] = { create_revision: d.create_revision, mod_revision: d.mod_revision, version: d.version };
      st.etcd.last = { key, op: "PUT", revision: d.revision };
      applyTerminals(st, ev, key, parseValue(d.value));
      if (key.startsWith("/registry/pods/")) {
        const pod = podFromObject(parseValue(d.value));
        const [ns, name] = key.slice("/registry/pods/".length).split("/");
        pod.namespace = pod.namespace || ns;
        pod.name = pod.name || name;
        st.pods[`${ns}/${name}`] = pod;
      } else if (key.startsWith("/registry/events/")) {
        const obj = parseValue(d.value);
        const involved = obj.involvedObject || {};
        st.k8s_events.push({
          reason: obj.reason ?? null, type: obj.type ?? null,
          object: `${(involved.kind || "pod").toLowerCase()}/${involved.name}`,
          message: obj.message ?? null, t: ev.t,
        });
        if (st.k8s_events.length > K8S_EVENTS_KEPT) st.k8s_events.splice(0, st.k8s_events.length - K8S_EVENTS_KEPT);
      } else if (key.startsWith("/registry/minions/")) {
        const obj = parseValue(d.value);
        if (obj && Object.keys(obj).length) nodeObject(st, key.slice("/registry/minions/".length), obj);
      }
      break;
    }
    case "etcd.delete": {
      const key = d.key;
      st.etcd.revision = d.revision;
      delete st.etcd.keys[key];
      st.etcd.last = { key, op: "DELETE", revision: d.revision };
      applyTerminals(st, ev, key, null);
      if (key.startsWith("/registry/pods/")) delete st.pods[key.slice("/registry/pods/".length)];
      break;
    }
    case "etcd.raft.election":
    case "etcd.raft.vote":
    case "etcd.raft.leader":
    case "etcd.raft.stepdown":
    case "etcd.raft.append":
    case "etcd.raft.snapshot":
    case "etcd.raft.commit":
    case "etcd.member.stopped":
    case "etcd.member.started":
    case "etcd.quorum.lost":
    case "etcd.quorum.regained":
      applyRaft(st, ev, d);
      break;
    case "apiserver.watch":
      st.etcd.watch.push({ t: ev.t, event: d.event ?? null, key: d.key ?? null, rv: d.resourceVersion ?? null, to: (ev.to || {}).instance ?? null });
      if (st.etcd.watch.length > WATCH_KEPT) st.etcd.watch.splice(0, st.etcd.watch.length - WATCH_KEPT);
      break;
    case "scheduler.queue":
    case "scheduler.prefilter":
    case "scheduler.filter":
    case "scheduler.postfilter":
    case "scheduler.prescore":
    case "scheduler.score":
    case "scheduler.reserve":
    case "scheduler.bind":
      applyScheduler(st, ev, d);
      break;
    case "kubectl.request":
    case "load-balancer.route":
    case "apiserver.request":
    case "apiserver.authn":
    case "apiserver.authz":
    case "apiserver.admission":
    case "apiserver.validation":
    case "apiserver.storage":
    case "apiserver.response":
      applyApiserver(st, ev, d);
      break;
    case "summary.interval": {
      // Bindings counted instead of sent one by one (large runs): per node, for the cluster map.
      for (const [name, n] of Object.entries(d.bound || {})) {
        const node = st.nodes[name];
        if (node) node.bound = (node.bound || 0) + n;
      }
      break;
    }
    case "component.lifecycle": {
      // A control-plane component stopped or started with its node (mirrors state.py).
      const comp = st.components[`${ev.component}/${ev.instance}`];
      if (comp) comp.running = d.state !== "stopped";
      break;
    }
    case "kubelet.lifecycle": {
      // The node as the control plane sees it: its kubelet stopped (no heartbeats) or started again.
      const node = st.nodes[ev.instance];
      if (node) node.kubelet = d.state ?? null;
      break;
    }
    case "kubelet.image.pulled": {
      const node = st.nodes[ev.instance];
      if (node && !node.images.includes(d.image)) node.images.push(d.image);
      break;
    }
    case "scenario.completed":
      st.status = "succeeded";
      addStepDone(st, st.step);
      break;
    case "run.cancelled":
      st.status = "cancelled";
      break;
    case "run.failed":
      st.status = "failed";
      break;
    default:
      break;
  }
  return st;
}
