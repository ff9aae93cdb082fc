// Wires the page together. All incoming events go through onEvent (the one place the state store is
// changed); drawing happens at most once per animation frame, however many events arrived in between.

import { gettext, interpolate, pick } from "./i18n.js";
import { initial, apply } from "./state.js";
import { RunStream } from "./live.js";
import { followClassroom } from "./classroom.js";
import { ArchView } from "./arch.js";
import { StepsView } from "./steps.js";
import { LogView, MAX_LINES } from "./log.js";
import { Controls } from "./controls.js";
import { SchedulerPanel } from "./schedpanel.js";
import { EtcdPanel } from "./etcdpanel.js";
import { ApiServerPanel } from "./apipanel.js";
import { TerminalsPanel } from "./terminals.js";
import { wireNavigation } from "./navigate.js";
import { ControllerPanel } from "./ctrlpanel.js";
import { SequenceView } from "./sequence.js";
import { ClusterMap } from "./clustermap.js";
import { scrollFollowers } from "./dom.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

const STATUS_TEXT = {
  idle: gettext("No run yet"),
  pending: gettext("Starting"),
  queued: gettext("Queued"),
  running: gettext("Running"),
  paused: gettext("Paused"),
  succeeded: gettext("Finished"),
  failed: gettext("Failed"),
  cancelled: gettext("Cancelled"),
};
const CONN_TEXT = {
  idle: "",
  connecting: gettext("Connecting…"),
  live: gettext("Live"),
  reconnecting: gettext("Reconnecting…"),
  done: gettext("Up to date"),
  gone: gettext("This run no longer exists"),
};

function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

const scenarios = readJSON("scenarios-data") || [];
const wsBase = document.body.dataset.wsBase || "";

const store = {
  run: null,
  state: initial(),
  pending: [], // events applied since the last frame, for the log and the diagram
  stream: null,
  conn: "idle",
  error: null,
  frame: 0,
};

const arch = new ArchView(document.getElementById("arch"));
const steps = new StepsView(document.getElementById("steps"), document.getElementById("narration"));
const log = new LogView(document.getElementById("event-log"), document.getElementById("event-log-scroll"));
const schedPanel = new SchedulerPanel(document.getElementById("scheduler-panel"));
const apiPanel = new ApiServerPanel(document.getElementById("apiserver-panel"));
const terminals = new TerminalsPanel(document.getElementById("terminals-panel"));
const ctlPanel = new ControllerPanel(document.getElementById("controllers-panel"));
const sequence = new SequenceView(document.getElementById("sequence-panel"));
const clusterMap = new ClusterMap(document.getElementById("cluster-map"));
const etcdPanel = new EtcdPanel(document.getElementById("etcd-panel"), () => (store.run ? store.run.id : null));
wireNavigation(document.getElementById("arch"), document.getElementById("layout"), document.getElementById("panels-layout"));
const panel = document.getElementById("run-panel");
const controls = panel ? new Controls(panel, scenarios, { onStarted: (run) => followRun(run, true) }) : null;

function scheduleRender() {
  if (!store.frame) store.frame = requestAnimationFrame(render);
}

function scenarioOf() {
  const id = store.state.scenario || (store.run && store.run.scenario);
  return scenarios.find((s) => s.id === id) || null;
}

function displayStatus() {
  if (!store.run) return "idle";
  // The events are the truth; a run message can trail the final event by a moment.
  if (TERMINAL.has(store.state.status)) return store.state.status;
  if (store.run.paused) return "paused";
  return store.run.status || store.state.status;
}

// Text and attributes are written only when they change: a write, even of the same text, makes the browser
// lay out and paint that part of the page again, and the status line is drawn every frame.
function put(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
function putData(node, key, value) {
  if (node.dataset[key] !== String(value)) node.dataset[key] = value;
}

function renderStatus() {
  const status = displayStatus();
  const box = document.getElementById("run-status");
  putData(box, "status", status);
  put(box.querySelector(".status-pill"), STATUS_TEXT[status] || status);
  const scenario = scenarioOf();
  const title = box.querySelector(".run-title");
  if (store.run) {
    const speed = store.run.speed === "max" ? gettext("max speed") : `${store.run.speed}×`;
    put(title, `${scenario ? pick(scenario.title) : store.run.scenario} · ${speed}` + (store.run.step_mode ? ` · ${gettext("step mode")}` : ""));
  } else {
    put(title, "");
  }
  const seq = document.getElementById("last-seq");
  putData(seq, "seq", store.state.seq);
  put(seq, interpolate(gettext("event %(seq)s · t = %(t)s s"), { seq: store.state.seq, t: Number(store.state.t).toFixed(3) }));
  const conn = document.getElementById("conn");
  putData(conn, "state", store.conn);
  put(conn, CONN_TEXT[store.conn] || "");
  const err = document.getElementById("run-problem");
  const problem = store.error || (store.run && store.run.error) || "";
  put(err, problem ? interpolate(gettext("Problem: %(message)s"), { message: problem }) : "");
  if (err.hidden !== !problem) err.hidden = !problem;
  if (controls) controls.setRun(store.run, status);
}

function renderPods() {
  const box = document.getElementById("pod-status");
  const pods = Object.values(store.state.pods);
  box.textContent = "";
  if (!pods.length) {
    box.dataset.phase = "";
    box.textContent = gettext("No Pod yet.");
    return;
  }
  for (const pod of pods) {
    const line = document.createElement("div");
    line.className = `pod-line phase-${String(pod.phase).toLowerCase()}`;
    line.dataset.pod = `${pod.namespace}/${pod.name}`;
    line.dataset.phase = pod.phase;
    const parts = [
      [gettext("Pod"), `${pod.namespace}/${pod.name}`],
      [gettext("Phase"), pod.phase + (pod.ready ? " (Ready)" : "")],
      [gettext("Node"), pod.node || gettext("not scheduled yet")],
      [gettext("IP"), pod.ip || gettext("not assigned yet")],
    ];
    for (const [k, v] of parts) {
      const item = document.createElement("span");
      item.className = "kv";
      const key = document.createElement("span");
      key.className = "k";
      key.textContent = k;
      const val = document.createElement("span");
      val.className = "v";
      val.textContent = v;
      item.append(key, val);
      line.appendChild(item);
    }
    box.appendChild(line);
  }
  box.dataset.phase = pods[pods.length - 1].phase;
}

// One view that fails to draw must not stop the others (nor the log) for the rest of the run; the error
// still reaches the console, where the browser tests look for it.
// Drawing time per view, summed (ms): what a frame costs and where (bench/frames.py reports it).
const drawMs = {};

function safely(view, draw) {
  const t0 = performance.now();
  try {
    draw();
  } catch (e) {
    console.error(`${view} failed to draw:`, e);
  }
  drawMs[view] = (drawMs[view] || 0) + performance.now() - t0;
}

// The rendering budget. Cheap views (the diagram, the steps, the status line) are drawn every animation
// frame. The panels and the log rebuild DOM and make the browser lay the page out again, so while events
// pour in (more than BUSY_RATE a second, e.g. a large run at max speed) they are drawn at most every
// BUSY_EVERY_MS - nobody reads faster than that - and the frames in between stay short; at a classroom's
// pace, and once the run has ended, they are drawn every frame.
const BUSY_RATE = 100;
const BUSY_EVERY_MS = 1000;
const budget = { heavyAt: -Infinity, timer: 0, log: [] };

// The pace of incoming events, counted as they arrive (not per frame: a page that draws slowly sees more
// events a frame, one that draws fast fewer): a count that decays with a quarter-second time constant, so
// it follows a flood within a few frames and a silence brings it down by itself.
const PACE_MS = 250;
const pace = { level: 0, at: 0 };

function eventRate(now) {
  return pace.level * Math.exp((pace.at - now) / PACE_MS) * 1000 / PACE_MS;   // events per second
}

function countEvent() {
  const now = performance.now();
  pace.level = pace.level * Math.exp((pace.at - now) / PACE_MS) + 1;
  pace.at = now;
}

// While busy, a panel scrolled out of sight is not drawn at all (its state is still kept); it is drawn
// the frame it comes back into view. At a classroom's pace every panel is drawn, seen or not.
const onScreen = new WeakMap();
const sight = new IntersectionObserver((entries) => {
  let back = false;
  for (const e of entries) {
    back = back || (e.isIntersecting && onScreen.get(e.target) === false);
    onScreen.set(e.target, e.isIntersecting);
  }
  if (back) { budget.heavyAt = -Infinity; scheduleRender(); }
}, { rootMargin: "100px" });
const HEAVY = [["cluster map", clusterMap], ["terminals", terminals], ["controllers", ctlPanel], ["sequence", sequence],
  ["apiserver", apiPanel], ["scheduler", schedPanel], ["etcd", etcdPanel]];
const logCard = document.getElementById("event-log-scroll").closest("section");
const archCard = document.getElementById("arch").closest("section");
const podBox = document.getElementById("pod-status");
for (const root of [...HEAVY.map(([, view]) => view.root), logCard, archCard, podBox]) sight.observe(root);
// A hidden panel (the cluster map of a small cluster) is drawn so that it can decide to show itself.
const seen = (root, busy) => !busy || root.hidden || onScreen.get(root) !== false;

function render(now = performance.now()) {
  store.frame = 0;
  const batch = store.pending;
  store.pending = [];
  const busy = eventRate(performance.now()) > BUSY_RATE && !TERMINAL.has(store.state.status);
  // While busy the diagram animates only the frame's last message: dozens of pulses and flashes a frame
  // would cost more to paint than they can tell anyone.
  if (seen(archCard, busy)) safely("diagram", () => arch.render(store.state, busy ? batch.slice(-1) : batch, busy));
  safely("steps", () => steps.render(store.state, scenarioOf()));
  if (batch.length) {
    budget.log.push(...batch.slice(-MAX_LINES));
    if (budget.log.length > MAX_LINES) budget.log.splice(0, budget.log.length - MAX_LINES);
  }
  const wait = busy ? budget.heavyAt + BUSY_EVERY_MS - now : 0;
  if (wait <= 0) {
    budget.heavyAt = now;
    if (busy && seen(archCard, busy)) safely("diagram", () => arch.renderPods(store.state));
    for (const [name, view] of HEAVY) {
      if (seen(view.root, busy)) safely(name, () => view.render(store.state, busy));
    }
    if (seen(logCard, busy)) {
      const lines = budget.log;
      budget.log = [];
      safely("log", () => log.append(lines));
    }
    if (seen(podBox, busy)) safely("pods", renderPods);
  }
  if (busy && !budget.timer) {
    // Come back even if no further event arrives: once the flood is over, everything is drawn in full.
    budget.timer = setTimeout(() => { budget.timer = 0; scheduleRender(); }, Math.max(wait, PACE_MS));
  }
  safely("status", renderStatus);
  safely("scroll", scrollFollowers);
}

// -- the live stream -----------------------------------------------------------------------------------

function onEvent(ev) {
  countEvent();
  safely("state (apply)", () => apply(store.state, ev));
  store.pending.push(ev);
  scheduleRender();
}

async function loadHistory(runId, from, upTo) {
  // Events a late viewer did not see one by one (the snapshot replaced them): fetch them for the log only;
  // the state already includes them.
  const since = Math.max(from, upTo - MAX_LINES);
  let events = [];
  try {
    const r = await fetch(`/api/runs/${runId}/events?since=${since}`, { headers: { Accept: "application/jsonl" } });
    if (r.ok) {
      events = (await r.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.seq <= upTo);
    }
  } catch {
    events = [];
  }
  if (!store.run || store.run.id !== runId) return;
  log.insertHistory(events, events.length > 0 && events[0].seq === from + 1, upTo);
}

function onSnapshot(seq, snapshot) {
  const before = store.state.seq;
  store.state = Object.assign(initial(), snapshot);
  store.pending = [];
  if (seq > before) {
    if (before === 0) { log.clear(); budget.log = []; }
    loadHistory(store.run.id, before, seq);
  }
  scheduleRender();
}

function followRun(run, force = false) {
  if (store.run && store.run.id === run.id) {
    store.run = { ...store.run, ...run };
    scheduleRender();
    return;
  }
  // Follow the newest run only: an announcement of an older run's status change must not pull us back.
  if (!force && store.run && run.created_at && store.run.created_at && run.created_at < store.run.created_at) return;
  if (store.stream) store.stream.stop();
  store.run = run;
  store.state = initial();
  store.pending = [];
  store.error = null;
  log.clear();
  budget.log = [];
  arch.reset();
  schedPanel.reset();
  apiPanel.reset();
  terminals.reset();
  ctlPanel.reset();
  sequence.reset();
  clusterMap.reset();
  etcdPanel.reset();
  store.stream = new RunStream(run.id, {
    onSnapshot,
    onEvent,
    onRun: (r) => { if (store.run && r.id === store.run.id) { store.run = { ...store.run, ...r }; scheduleRender(); } },
    onError: (e) => { store.error = e.message || gettext("The server reported an error."); scheduleRender(); },
    onConnection: (c) => { store.conn = c; scheduleRender(); },
  }, { wsBase }).start();
  scheduleRender();
}

const initialRun = readJSON("initial-run");
if (initialRun) followRun(initialRun);
followClassroom("default", (run) => followRun(run), { wsBase });
scheduleRender();

// For tests and curious students: the live state, read-only by convention.
window.k8sDashboard = store;
// The one entry point of events, as the socket calls it (bench/frames.py feeds recorded runs through it).
store.feed = onEvent;
store.drawMs = drawMs;
