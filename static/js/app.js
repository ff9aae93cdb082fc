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
import { openPanel, wireNavigation } from "./navigate.js";
import { Presenter } from "./presenter.js";
import { Replay, parseJSONL, MAX_IMPORT_BYTES } from "./replay.js";
import { postJSON } from "./controls.js";
import { ControllerPanel } from "./ctrlpanel.js";
import { SequenceView } from "./sequence.js";
import { ClusterMap } from "./clustermap.js";
import { el, scrollFollowers } from "./dom.js";
import { LiveClusterCard } from "./livecluster.js";

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
  replay: gettext("Replay"),
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
const instructor = document.body.dataset.instructor === "true";

const store = {
  run: null,
  state: initial(),
  pending: [], // events applied since the last frame, for the log and the diagram
  stream: null,
  conn: "idle",
  error: null,
  frame: 0,
  mode: "live",      // or "replay": a finished run played again in this browser
  replay: null,      // the Replay while mode is "replay"
  following: !instructor,   // a student's page follows the presenter's run and panel until detached
  latest: null,      // the newest run the classroom announced (followed again on "Follow")
  focus: null,       // the panel the presenter last pointed the class at
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
arch.onDraw = wireNavigation(document.getElementById("arch"), document.getElementById("layout"), document.getElementById("panels-layout"));
const panel = document.getElementById("run-panel");
const controls = panel ? new Controls(panel, scenarios, { onStarted: (run) => followRun(run, true) }) : null;

function scheduleRender() {
  if (!store.frame) store.frame = requestAnimationFrame(render);
}

// The live cluster's run has no catalog entry: it is not started from the run form.
const LIVE_SCENARIO = "live-cluster";
function runTitle(run, scenario) {
  const real = run && run.backend === "api" ? ` · ${gettext("real cluster")}` : "";
  if (scenario) return pick(scenario.title) + real;
  return run.scenario === LIVE_SCENARIO ? gettext("Live cluster (kubectl)") : run.scenario + real;
}

function scenarioOf() {
  const id = store.state.scenario || (store.run && store.run.scenario);
  return scenarios.find((s) => s.id === id) || null;
}

function displayStatus() {
  if (store.mode === "replay") return "replay";
  if (!store.run) return "idle";
  // The events are the truth; a run message can trail the final event by a moment.
  if (TERMINAL.has(store.state.status)) return store.state.status;
  if (store.run.paused) return "paused";
  // The classroom socket can announce the end before this run's stream has delivered the last events:
  // the run is shown as running until they are here.
  const status = store.run.status || store.state.status;
  return TERMINAL.has(status) && store.state.seq < (store.run.last_seq || 0) ? "running" : status;
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
    put(title, `${runTitle(store.run, scenario)} · ${speed}` + (store.run.step_mode ? ` · ${gettext("step mode")}` : ""));
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
  if (controls) controls.setRun(store.mode === "replay" ? null : store.run, status);
  renderHud(status);
}

const POD_LINES = 12;

function renderPods() {
  const box = document.getElementById("pod-status");
  const pods = Object.values(store.state.pods);
  box.textContent = "";
  if (!pods.length) {
    box.dataset.phase = "";
    box.textContent = gettext("No Pod yet.");
    return;
  }
  // A dozen lines at most: a large run's Pods are counted on the cluster map, not listed here.
  for (const pod of pods.slice(0, POD_LINES)) {
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
  if (pods.length > POD_LINES) {
    const more = document.createElement("div");
    more.className = "pod-more-line";
    more.textContent = interpolate(gettext("… and %(n)s more Pods"), { n: pods.length - POD_LINES });
    box.appendChild(more);
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

// Forget everything drawn for the run shown so far (another run, or a replay seeking).
function resetViews() {
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
}

function newer(a, b) {
  return !b || !a.created_at || !b.created_at || a.created_at >= b.created_at;
}

function followRun(run, force = false) {
  if (store.latest && store.latest.id === run.id) store.latest = { ...store.latest, ...run };
  else if (newer(run, store.latest)) store.latest = run;
  refreshPastRuns(run);
  // A replay, or a student exploring on their own, is not pulled away by the classroom; "Follow" or "Back
  // to live" come back to store.latest.
  if (!force && (store.mode === "replay" || !store.following && !instructor && store.run)) return;
  if (store.run && store.run.id === run.id) {
    store.run = { ...store.run, ...run };
    scheduleRender();
    return;
  }
  // Follow the newest run only: an announcement of an older run's status change must not pull us back.
  if (!force && store.run && run.created_at && store.run.created_at && run.created_at < store.run.created_at) return;
  if (store.stream) store.stream.stop();
  store.run = run;
  resetViews();
  store.stream = new RunStream(run.id, {
    onSnapshot,
    onEvent,
    onRun: (r) => { if (store.run && r.id === store.run.id) { store.run = { ...store.run, ...r }; scheduleRender(); } },
    onError: (e) => { store.error = e.message || gettext("The server reported an error."); scheduleRender(); },
    onConnection: (c) => { store.conn = c; scheduleRender(); },
  }, { wsBase }).start();
  scheduleRender();
}

// -- presenting: the keys, the analogy layer, following the presenter -----------------------------------

const toastBox = document.getElementById("toast");
let toastTimer = 0;
function toast(text) {
  toastBox.textContent = text;
  toastBox.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toastBox.hidden = true; }, 3500);
}

const LIVE_SPEEDS = ["0.25", "0.5", "1", "2", "4", "max"];
const liveActive = () => store.run && ["queued", "running", "paused"].includes(displayStatus());

async function control(body) {
  try {
    await postJSON(`/api/runs/${store.run.id}/control`, body);
  } catch (err) {
    toast(err.message);
  }
}

// What a key does on the live run: the instructor's page drives it; a student's cannot.
function live(action) {
  if (!instructor) {
    toast(gettext("The instructor moves the live run. To go at your own pace, replay a past run."));
    return;
  }
  if (!liveActive()) {
    toast(gettext("No run is in progress. Start one, or replay a past run."));
    return;
  }
  const i = Math.max(0, LIVE_SPEEDS.indexOf(store.run.speed));
  if (action === "next") control({ action: "step" });
  else if (action === "pause") control({ action: displayStatus() === "paused" ? "resume" : "pause" });
  else if (action === "faster") control({ action: "speed", speed: LIVE_SPEEDS[Math.min(LIVE_SPEEDS.length - 1, i + 1)] });
  else if (action === "slower") control({ action: "speed", speed: LIVE_SPEEDS[Math.max(0, i - 1)] });
  else if (action === "back") toast(gettext("A live run cannot go back. Replay it once it has finished."));
}

function keyAction(action) {
  return () => {
    const r = store.replay;
    if (!r) { live(action); return; }
    if (!instructor && store.following) setFollowing(false);   // moving a followed replay: exploring now
    if (action === "next") r.next();
    else if (action === "back") r.back();
    else if (action === "pause") r.toggle();
    else if (action === "faster") r.faster();
    else if (action === "slower") r.slower();
  };
}

let analogyOn = false;
const analogyButton = document.getElementById("analogy-toggle");
function setAnalogy(on) {
  analogyOn = on;
  arch.setAnalogy(on);
  analogyButton.setAttribute("aria-pressed", on ? "true" : "false");
  try { localStorage.setItem("k8sdash.analogy", on ? "on" : "off"); } catch { /* private mode */ }
}
analogyButton.addEventListener("click", () => setAnalogy(!analogyOn));
try { setAnalogy(localStorage.getItem("k8sdash.analogy") === "on"); } catch { setAnalogy(false); }

const presenter = new Presenter({
  next: keyAction("next"),
  back: keyAction("back"),
  pause: keyAction("pause"),
  faster: keyAction("faster"),
  slower: keyAction("slower"),
  analogy: () => setAnalogy(!analogyOn),
  panel: (id) => { if (!openPanel(id)) toast(gettext("This cluster is small enough to draw as boxes: it has no cluster map.")); },
  toast,
});

function renderHud(status) {
  const scenario = scenarioOf();
  const steps = scenario ? scenario.steps || [] : [];
  const current = steps.find((x) => x.n === store.state.step);
  const stepText = current
    ? interpolate(gettext("Step %(n)s of %(total)s · %(title)s"), { n: current.n, total: steps.length, title: pick(current.title) })
    : scenario ? pick(scenario.title) : "";
  const r = store.replay;
  const speed = r ? `${r.speed}×` : store.run ? (store.run.speed === "max" ? gettext("max speed") : `${store.run.speed}×`) : "";
  const what = r ? (r.playing ? gettext("playing") : gettext("holding")) : STATUS_TEXT[status] || status;
  presenter.renderHud(stepText, [STATUS_TEXT[status] || status, r ? what : "", speed].filter(Boolean).join(" · "));
}

// The presenter's page tells the class which panel it opened; a student's page that follows opens it too.
// A student who opens a panel themselves is exploring: their page stops following until they ask again.
// What the presenter shows the class: a panel, and the run - live, or a replay at a position. Sent at most
// every FOCUS_EVERY_MS (a replay that plays moves on many times a second), the last one always.
const FOCUS_EVERY_MS = 1000;
const focusOut = { panel: "arch-card", timer: 0, at: 0 };
function sendFocus() {
  if (!instructor) return;
  clearTimeout(focusOut.timer);
  const wait = Math.max(150, focusOut.at + FOCUS_EVERY_MS - performance.now());
  focusOut.timer = setTimeout(() => {
    focusOut.at = performance.now();
    const body = { panel: focusOut.panel };
    const r = store.replay;
    if (r && r.runId) { body.replay = r.runId; body.pos = r.pos; } else if (store.run && store.mode === "live") body.run = store.run.id;
    postJSON("/api/classroom/focus", body).catch((err) => toast(err.message));
  }, wait);
}

document.addEventListener("k8s:panel", (e) => {
  if (e.detail.origin !== "user") return;
  if (instructor) {
    focusOut.panel = e.detail.id;
    sendFocus();
  } else if (store.following) {
    setFollowing(false);
  }
});

const followBar = document.getElementById("follow-bar");
const followButton = document.getElementById("follow-toggle");
function renderFollow() {
  if (instructor) return;
  followBar.hidden = false;
  followBar.dataset.state = store.following ? "following" : "detached";
  followBar.querySelector(".follow-text").textContent = store.following
    ? gettext("Following the instructor")
    : gettext("Exploring on your own");
  followButton.textContent = store.following ? gettext("Explore on my own") : gettext("Follow the instructor");
}
function setFollowing(on) {
  store.following = on;
  renderFollow();
  if (on) refollow();
}
followButton.addEventListener("click", () => setFollowing(!store.following));
renderFollow();

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error(String(r.status));
  return r.json();
}

// Back to the presenter: the newest run, then the panel they point at.
async function refollow() {
  if (store.replay) stopReplay();
  try {
    const body = await getJSON("/api/runs?limit=1");
    if (body.runs && body.runs.length) followRun(body.runs[0], true);
    const f = await getJSON("/api/classroom/focus");
    if (f.focus) onFocus(f.focus);
  } catch {
    // The classroom socket brings the next run and focus anyway.
  }
}

// live: the presenter just sent it (the socket); else it was read back and may predate a newer run.
async function onFocus(focus, live = false) {
  store.focus = focus;
  if (instructor || !store.following) return;
  if (focus.replay) {
    // The presenter replays a finished run: replay it here too, at the same point.
    if (!store.replay || store.replay.runId !== focus.replay) {
      let run;
      try { run = await getJSON(`/api/runs/${focus.replay}`); } catch { return; }
      if (!store.following || store.focus !== focus) return;   // detached, or newer news, meanwhile
      await replayRun(run, true);
    }
    if (store.replay && store.replay.runId === focus.replay && store.replay.pos !== focus.pos) store.replay.seek(focus.pos);
  } else {
    if (store.replay && store.replay.followed) {
      stopReplay();
      if (store.latest) followRun(store.latest, true);
    }
    if (focus.run && (!store.run || store.run.id !== focus.run)) {
      // A run still going that the presenter points at just now is followed even when it is older than the
      // one shown (the live cluster, started before today's runs). Otherwise the newest run wins: a focus read
      // back later, or sent while the presenter's page was still on the previous run, may be stale.
      try {
        const run = await getJSON(`/api/runs/${focus.run}`);
        followRun(run, live && ["queued", "running", "paused"].includes(run.status));
      } catch { /* gone: stay */ }
    }
  }
  openPanel(focus.panel, "follow");
}

// -- replay, export, import, past runs -------------------------------------------------------------------

const replayBar = document.getElementById("replay-bar");
const timeline = document.getElementById("replay-timeline");
const replaySpeed = document.getElementById("replay-speed");
const exportLink = document.getElementById("replay-export");

// Show the state after the replay's first `pos` events at once: folded, not animated; the log gets the
// last lines before that point.
function loadPosition(pos) {
  const events = store.replay.events;
  resetViews();
  for (let i = 0; i < pos; i++) apply(store.state, events[i]);
  budget.log = events.slice(Math.max(0, pos - MAX_LINES), pos);
  scheduleRender();
}

function renderReplayBar() {
  const r = store.replay;
  if (!r) return;
  timeline.max = String(r.length);
  timeline.value = String(r.pos);
  replayBar.querySelector("[data-replay=toggle]").textContent = r.playing ? "⏸" : "▶";
  replayBar.querySelector(".replay-pos").textContent = interpolate(gettext("event %(pos)s of %(total)s"), { pos: r.pos, total: r.length });
  replaySpeed.value = String(r.speed);
  replayBar.dataset.playing = r.playing ? "true" : "false";
  replayBar.dataset.pos = String(r.pos);
  scheduleRender();
  if (instructor && r.runId) sendFocus();
}

// `followed`: a student's page replaying what the presenter replays (it stays following).
function startReplay(run, events, exportHref, filename, followed = false) {
  if (store.stream) { store.stream.stop(); store.stream = null; }
  if (store.replay) store.replay.stop();
  if (!instructor && store.following && !followed) { store.following = false; renderFollow(); }
  store.mode = "replay";
  store.run = { ...run };
  store.replay = new Replay(events, { load: loadPosition, feed: onEvent, changed: renderReplayBar });
  store.replay.runId = run.imported ? null : run.id;   // a server's run, which the class can follow
  store.replay.followed = followed;
  store.conn = "idle";
  exportLink.href = exportHref;
  exportLink.download = filename;
  replayBar.hidden = false;
  // Start with the run's title and description on screen, before its first step.
  store.replay.seek(Math.min(1, events.length));
  replayBar.scrollIntoView({ block: "nearest" });
}

function stopReplay() {
  if (!store.replay) return;
  store.replay.stop();
  if (exportLink.href.startsWith("blob:")) URL.revokeObjectURL(exportLink.href);
  store.replay = null;
  store.mode = "live";
  store.run = null;
  replayBar.hidden = true;
}

replayBar.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-replay]");
  if (b && store.replay) keyAction(b.dataset.replay === "toggle" ? "pause" : b.dataset.replay)();
});
timeline.addEventListener("input", () => { if (store.replay) store.replay.seek(Number(timeline.value)); });
replaySpeed.addEventListener("change", () => { if (store.replay) store.replay.setSpeed(Number(replaySpeed.value)); });
document.getElementById("replay-exit").addEventListener("click", () => {
  stopReplay();
  sendFocus();   // the presenter's class comes back to the live run too
  if (!instructor) setFollowing(true);
  else if (store.latest) followRun(store.latest, true);
  else { resetViews(); scheduleRender(); }
});

const exportName = (run) => `k8s-run-${run.scenario || "run"}-${String(run.id).slice(0, 8)}.jsonl`;
const eventsUrl = (run) => `/api/runs/${run.id}/events?since=0&download=1`;

async function replayRun(run, followed = false) {
  let events;
  try {
    const r = await fetch(`/api/runs/${run.id}/events?since=0`, { headers: { Accept: "application/jsonl" } });
    if (!r.ok) throw new Error(String(r.status));
    events = parseJSONL(await r.text());
  } catch (err) {
    toast(interpolate(gettext("This run cannot be replayed: %(why)s"), { why: err.message || String(err) }));
    return;
  }
  startReplay(run, events, eventsUrl(run), exportName(run), followed);
}

const pastList = document.querySelector("#past-runs .past-list");
let pastTimer = 0;
function refreshPastRuns(run) {
  // A run that finishes joins the list; other announcements change nothing in it.
  if (run && !TERMINAL.has(run.status)) return;
  clearTimeout(pastTimer);
  pastTimer = setTimeout(loadPastRuns, 300);
}

async function loadPastRuns() {
  let runs = [];
  try { runs = (await getJSON("/api/runs?limit=20")).runs || []; } catch { return; }
  runs = runs.filter((r) => TERMINAL.has(r.status));
  pastList.textContent = "";
  if (!runs.length) {
    pastList.append(el("li", "past-empty", gettext("No finished run yet.")));
    return;
  }
  for (const run of runs) {
    const li = el("li");
    li.dataset.run = run.id;
    const s = scenarios.find((x) => x.id === run.scenario);
    const name = el("span", "past-name", runTitle(run, s));
    const when = run.created_at ? new Date(run.created_at).toLocaleString(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" }) : "";
    const meta = el("span", "past-meta", [STATUS_TEXT[run.status] || run.status, when, interpolate(gettext("%(n)s events"), { n: run.last_seq })].filter(Boolean).join(" · "));
    const play = el("button", "past-replay", gettext("Replay"));
    play.type = "button";
    play.addEventListener("click", () => replayRun(run));
    const save = el("a", "button-link past-export", gettext("Export"));
    save.href = eventsUrl(run);
    save.download = exportName(run);
    li.append(name, meta, play, save);
    pastList.append(li);
  }
}

const importInput = document.getElementById("replay-import");
const importError = document.getElementById("import-error");
importInput.addEventListener("change", async () => {
  const file = importInput.files && importInput.files[0];
  importError.hidden = true;
  if (!file) return;
  const fail = (message) => { importError.textContent = message; importError.hidden = false; };
  if (file.size > MAX_IMPORT_BYTES) {
    fail(interpolate(gettext("%(file)s is larger than %(mb)s MB."), { file: file.name, mb: MAX_IMPORT_BYTES / 1048576 }));
    return;
  }
  let events;
  try {
    events = parseJSONL(await file.text());
  } catch (err) {
    fail(err.line
      ? interpolate(gettext("%(file)s, line %(line)s: %(message)s"), { file: file.name, line: err.line, message: err.message })
      : interpolate(gettext("%(file)s: %(message)s"), { file: file.name, message: err.message || String(err) }));
    return;
  } finally {
    importInput.value = "";
  }
  const started = events.find((e) => e.type === "scenario.started");
  const scenario = started && started.data ? started.data.scenario : null;
  const run = { id: events[0].run || "imported", scenario, status: "succeeded", speed: "1", imported: true };
  const blob = URL.createObjectURL(new Blob([events.map((e) => JSON.stringify(e)).join("\n") + "\n"], { type: "application/jsonl" }));
  startReplay(run, events, blob, file.name);
});

const liveCard = document.getElementById("live-card");
if (liveCard) new LiveClusterCard(liveCard, { onWatch: (run) => { if (store.replay) stopReplay(); followRun(run, true); sendFocus(); } });

const initialRun = readJSON("initial-run");
if (initialRun) followRun(initialRun);
followClassroom("default", (run) => followRun(run), { wsBase, onFocus });
loadPastRuns();
scheduleRender();

// For tests and curious students: the live state, read-only by convention.
window.k8sDashboard = store;
// The one entry point of events, as the socket calls it (bench/frames.py feeds recorded runs through it).
store.feed = onEvent;
store.drawMs = drawMs;
store.presenter = presenter;
