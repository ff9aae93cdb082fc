// The architecture diagram: the cluster as in the lesson (control plane above, worker nodes below,
// kubectl outside on the user's laptop), drawn once as SVG; each frame lights the components that acted
// and sends a pulse along `to`. Pods are redrawn from the folded state in their node's pod area.

import { gettext, interpolate, pick } from "./i18n.js";
import { ANALOGY, FRAME_ANALOGY } from "./analogy.js";

const SVGNS = "http://www.w3.org/2000/svg";
const MAX_PULSES_PER_FRAME = 6;
const PULSE_MS = 700;
const FLASH_MS = 900;
// While busy, the highlight of the component that acted last moves at most this often (it glows; moving it
// every frame would repaint the glow every frame).
const BUSY_ACTIVE_MS = 300;

// Role captions, short enough to fit under a component's name.
const ROLE = {
  kubectl: gettext("command-line client"),
  "load-balancer": gettext("spreads requests"),
  apiserver: gettext("the single front door"),
  etcd: gettext("the cluster's records"),
  scheduler: gettext("picks a node"),
  "controller-manager": gettext("keeps desired state"),
  "cloud-controller-manager": gettext("talks to the cloud"),
  kubelet: gettext("node agent"),
  "kube-proxy": gettext("Service routing"),
  "container-runtime": gettext("runs containers"),
};

const NAME = {
  kubectl: "kubectl",
  "load-balancer": gettext("load balancer"),
  apiserver: "kube-apiserver",
  etcd: "etcd",
  scheduler: "kube-scheduler",
  "controller-manager": "kube-controller-manager",
  "cloud-controller-manager": "cloud-controller-manager",
  kubelet: "kubelet",
  "kube-proxy": "kube-proxy",
  "container-runtime": gettext("container runtime"),
};

// The diagram is laid out for the run's cluster: up to three control-plane nodes (side by side, each with
// its API server, etcd member, scheduler and controller-manager, behind a load balancer when there are
// several) and up to six workers. In a bigger cluster one frame stands for all the workers and the cluster
// map (clustermap.js) shows every node. Before a run, the default is pod-create's cluster: one control-plane
// node (which, as in kind, also runs a kubelet, kube-proxy and runtime) and two workers.
export const DIAGRAM_MAX = { controlPlanes: 3, workers: 6 };
const DEFAULT_TOPOLOGY = { controlPlanes: [{ name: "control-plane", on: {} }], workers: ["worker-1", "worker-2"], lb: false };
const SHORT_NAME = { "container-runtime": gettext("runtime") };

// Whether a cluster of these nodes fits the diagram (else the cluster map draws it).
export function diagramFits(nodes) {
  let cp = 0, w = 0;
  for (const n of Object.values(nodes || {})) {
    if (n.role === "control-plane") cp += 1; else w += 1;
    if (cp > DIAGRAM_MAX.controlPlanes || w > DIAGRAM_MAX.workers) return false;
  }
  return true;
}

// The run's cluster as the diagram needs it, or null before a run has said what it has.
function topologyOf(state) {
  const nodes = state.nodes || {};
  const names = Object.keys(nodes);
  const components = state.components || {};
  if (!names.length && !Object.keys(components).length) return null;
  const on = {};   // node -> component -> instance running there
  for (const c of Object.values(components)) if (c.node) (on[c.node] ||= {})[c.component] = c.instance;
  const fits = diagramFits(nodes);
  return {
    controlPlanes: names.filter((n) => nodes[n].role === "control-plane").slice(0, DIAGRAM_MAX.controlPlanes)
      .map((name) => ({ name, on: on[name] || {} })),
    // Too many nodes to draw one by one: one frame stands for all workers (the cluster map shows each).
    workers: fits ? names.filter((n) => nodes[n].role !== "control-plane") : [],
    many: !fits,
    lb: "load-balancer/load-balancer" in components,
  };
}

// Frames (x, y, w, h), the component boxes inside them and the Pod areas, in the 1200 x 676 viewBox. The
// API server sits at the control plane's lower edge, nearest to kubectl and the workers, so that the many
// arrows to and from it cross few other boxes.
function computeLayout(topo) {
  const frames = [], boxes = [], pods = {};
  frames.push({ id: "laptop", x: 10, y: 30, w: 190, h: 170, label: gettext("Your laptop"), cls: "frame-outside" });
  boxes.push({ component: "kubectl", instance: "kubectl", x: 28, y: 80, w: 154, h: 96 });
  if (topo.lb) {
    frames.push({ id: "lb", x: 10, y: 212, w: 190, h: 110, label: gettext("Load balancer"), cls: "frame-outside" });
    boxes.push({ component: "load-balancer", instance: "load-balancer", x: 28, y: 240, w: 154, h: 70 });
    frames.push({ id: "unscheduled", x: 10, y: 334, w: 190, h: 321, label: gettext("Waiting for a node"), cls: "frame-pods" });
    pods[""] = { x: 22, y: 361, w: 166, h: 283 };
  } else {
    frames.push({ id: "unscheduled", x: 10, y: 225, w: 190, h: 430, label: gettext("Waiting for a node"), cls: "frame-pods" });
    pods[""] = { x: 22, y: 252, w: 166, h: 392 };
  }
  frames.push({ id: "cluster", x: 215, y: 8, w: 975, h: 660, label: gettext("Kubernetes cluster"), cls: "frame-cluster" });
  const cpLabel = (name) => interpolate(gettext("Node %(name)s · control plane"), { name });
  const wLabel = (name) => interpolate(gettext("Node %(name)s · worker"), { name });
  const C = topo.controlPlanes.length;
  if (C === 0) {
    // A control plane hosted off the nodes (the scale scenario): its components, no node agents.
    frames.push({ id: "control-plane", x: 230, y: 36, w: 945, h: 262, label: gettext("Control plane (hosted, not on a node)"), cls: "frame-node frame-cp" });
    boxes.push(
      { component: "etcd", instance: "etcd-1", x: 248, y: 70, w: 236, h: 100 },
      { component: "scheduler", instance: "scheduler-1", x: 502, y: 70, w: 200, h: 100 },
      { component: "controller-manager", instance: "controller-manager-1", x: 720, y: 70, w: 225, h: 100 },
      { component: "apiserver", instance: "apiserver-1", x: 248, y: 186, w: 236, h: 96 },
    );
  }
  topo.controlPlanes.forEach((cp, i) => {
    const inst = (component, fallback) => cp.on[component] || fallback;
    const node = cp.name;
    if (C === 1) {
      frames.push({ id: `node:${node}`, node, x: 230, y: 36, w: 945, h: 262, label: cpLabel(node), cls: "frame-node frame-cp" });
      boxes.push(
        { component: "etcd", instance: inst("etcd", "etcd-1"), x: 248, y: 70, w: 236, h: 100 },
        { component: "scheduler", instance: inst("scheduler", "scheduler-1"), x: 502, y: 70, w: 200, h: 100 },
        { component: "controller-manager", instance: inst("controller-manager", "controller-manager-1"), x: 720, y: 70, w: 225, h: 100 },
        { component: "cloud-controller-manager", instance: "cloud-controller-manager-1", x: 963, y: 70, w: 196, h: 100 },
        { component: "apiserver", instance: inst("apiserver", "apiserver-1"), x: 248, y: 186, w: 236, h: 96 },
        { component: "kubelet", instance: node, x: 502, y: 196, w: 130, h: 86 },
        { component: "kube-proxy", instance: node, x: 642, y: 196, w: 130, h: 86 },
        { component: "container-runtime", instance: node, x: 782, y: 196, w: 150, h: 86 },
      );
      pods[node] = { x: 948, y: 186, w: 211, h: 96 };
      return;
    }
    // HA: each control-plane node a column; Pods do not land here (the control-plane taint), so no Pod area.
    const fw = (945 - (C - 1) * 15) / C, x0 = 230 + i * (fw + 15);
    frames.push({ id: `node:${node}`, node, x: x0, y: 36, w: fw, h: 262, label: cpLabel(node), cls: "frame-node frame-cp" });
    const bw = (fw - 42) / 2, sw = (fw - 48) / 3, n = i + 1;
    boxes.push(
      { component: "etcd", instance: inst("etcd", `etcd-${n}`), x: x0 + 16, y: 58, w: bw, h: 70 },
      { component: "scheduler", instance: inst("scheduler", `scheduler-${n}`), x: x0 + 26 + bw, y: 58, w: bw, h: 70 },
      { component: "controller-manager", instance: inst("controller-manager", `controller-manager-${n}`), x: x0 + 16, y: 136, w: bw, h: 70 },
      { component: "apiserver", instance: inst("apiserver", `apiserver-${n}`), x: x0 + 26 + bw, y: 136, w: bw, h: 70 },
      { component: "kubelet", instance: node, x: x0 + 16, y: 220, w: sw, h: 62 },
      { component: "kube-proxy", instance: node, x: x0 + 24 + sw, y: 220, w: sw, h: 62 },
      { component: "container-runtime", instance: node, x: x0 + 32 + 2 * sw, y: 220, w: sw, h: 62 },
    );
  });
  if (topo.many) {
    frames.push({ id: "workers", x: 230, y: 315, w: 945, h: 340, cls: "frame-node",
      label: gettext("Worker nodes: too many to draw one by one - the cluster map below shows each of them") });
    // One set of agents stands for every node's (a node's kubelet lights it up when it acts).
    boxes.push(
      { component: "kubelet", instance: "*", x: 246, y: 350, w: 298, h: 90 },
      { component: "kube-proxy", instance: "*", x: 554, y: 350, w: 298, h: 90 },
      { component: "container-runtime", instance: "*", x: 862, y: 350, w: 297, h: 90 },
    );
  }
  const W = topo.workers.length;
  topo.workers.forEach((node, i) => {
    const fw = (945 - (W - 1) * 15) / W, x0 = 230 + i * (fw + 15);
    frames.push({ id: `node:${node}`, node, x: x0, y: 315, w: fw, h: 340, label: wLabel(node), cls: "frame-node" });
    if (fw >= 430) {   // the three agents in a row, the Pods below
      const bw = (fw - 52) / 3;
      boxes.push(
        { component: "kubelet", instance: node, x: x0 + 16, y: 350, w: bw, h: 90 },
        { component: "kube-proxy", instance: node, x: x0 + 26 + bw, y: 350, w: bw, h: 90 },
        { component: "container-runtime", instance: node, x: x0 + 36 + 2 * bw, y: 350, w: bw, h: 90 },
      );
      pods[node] = { x: x0 + 16, y: 458, w: fw - 32, h: 182 };
    } else {           // narrow: the agents stacked, the Pods below
      const bw = fw - 24;
      boxes.push(
        { component: "kubelet", instance: node, x: x0 + 12, y: 342, w: bw, h: 48 },
        { component: "kube-proxy", instance: node, x: x0 + 12, y: 396, w: bw, h: 48 },
        { component: "container-runtime", instance: node, x: x0 + 12, y: 450, w: bw, h: 48 },
      );
      pods[node] = { x: x0 + 8, y: 508, w: fw - 16, h: 140 };
    }
  });
  return { frames, boxes, pods, key: JSON.stringify([frames, boxes, pods]) };
}

function el(name, attrs = {}, parent = null, text = null) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// The largest font size (at most `max`, at least 9) at which `text` fits in `width` diagram units: Hangul
// and other wide characters take about a full em, Latin letters a bit over half of one.
function fitSize(text, width, max) {
  let ems = 0;
  for (const ch of text || "") ems += ch.codePointAt(0) > 0x2e80 ? 1 : 0.56;
  return Math.max(9, Math.min(max, Math.floor((width / ems) * 10) / 10));
}

// Where the segment from the centre of `a` towards point (tx, ty) leaves a's rectangle.
function edgePoint(a, tx, ty) {
  const cx = a.x + a.w / 2, cy = a.y + a.h / 2;
  const dx = tx - cx, dy = ty - cy;
  if (dx === 0 && dy === 0) return [cx, cy];
  const sx = dx !== 0 ? (a.w / 2) / Math.abs(dx) : Infinity;
  const sy = dy !== 0 ? (a.h / 2) / Math.abs(dy) : Infinity;
  const s = Math.min(sx, sy);
  return [cx + dx * s, cy + dy * s];
}

export class ArchView {
  constructor(svg) {
    this.svg = svg;
    this.boxes = new Map(); // "component/instance" -> {box, g}
    this.active = null;
    // Message pulses fly over the diagram on a layer of their own, each an <svg> of the diagram's size moved
    // and faded by the compositor: a pulse in flight does not make the browser paint the diagram again
    // every frame.
    const stage = document.createElement("div");
    stage.className = "arch-stage";
    svg.before(stage);
    stage.append(svg);
    this.overlay = document.createElement("div");
    this.overlay.className = "pulse-overlay";
    this.overlay.setAttribute("aria-hidden", "true");
    stage.append(this.overlay);
    this.scale = (svg.clientWidth || 1200) / 1200;   // px per diagram unit, kept current without reading layout
    new ResizeObserver((entries) => { this.scale = (entries[entries.length - 1].contentRect.width || 1200) / 1200; }).observe(svg);
    this.still = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };
    this.inflight = 0;                 // message pulses under way
    this.activeUntil = 0;
    this.layout = computeLayout(DEFAULT_TOPOLOGY);
    this.draw();
  }

  // Lay the diagram out again when the run's cluster differs from the one drawn (checked cheaply: the
  // nodes object is replaced by each run's start, and a node joining adds a key to it).
  relayout(state) {
    const nodes = state.nodes || {};
    let count = -1;
    if (nodes === this.nodesSeen) {
      if (this.nodeCount > DIAGRAM_MAX.controlPlanes + DIAGRAM_MAX.workers) return;
      count = Object.keys(nodes).length;
      if (count === this.nodeCount) return;
    }
    this.nodesSeen = nodes;
    this.nodeCount = count >= 0 ? count : Object.keys(nodes).length;
    const topo = topologyOf(state) || DEFAULT_TOPOLOGY;
    const layout = computeLayout(topo);
    if (layout.key === this.layout.key) return;
    this.layout = layout;
    this.draw();
    this.reset();
    if (this.onDraw) this.onDraw();   // the page marks the new boxes for keyboard navigation again
  }

  // NotReady and the taints a node carries, written on its frame (the control-plane taint, always there,
  // is left out).
  renderNodeStatus(state) {
    const nodes = state.nodes || {};
    const members = (state.etcd && state.etcd.status) || {};
    let key = "";
    for (const name of this.nodeFrames.keys()) {
      const n = nodes[name];
      if (n) key += `${name}:${n.ready}:${n.kubelet}:${(n.taints || []).map((t) => `${t.key}=${t.value || ""}:${t.effect}`).join(",")};`;
    }
    for (const [name, m] of Object.entries(members)) key += `${name}:${m.running};`;
    const comps = state.components || {};
    for (const [k, c] of Object.entries(comps)) if (c.running === false) key += `${k}:down;`;
    if (key === this.statusKey) return;
    this.statusKey = key;
    // A stopped kubelet, etcd member or control-plane component is drawn as stopped: greyed, dashed, and saying so.
    for (const [k, v] of this.boxes) {
      const b = v.box;
      const down = b.component === "kubelet" ? Boolean(nodes[b.instance] && nodes[b.instance].kubelet === "stopped")
        : b.component === "etcd" ? Boolean(members[b.instance] && members[b.instance].running === false)
        : Boolean(comps[`${b.component}/${b.instance}`] && comps[`${b.component}/${b.instance}`].running === false);
      if (v.g.classList.contains("down") === down) continue;
      v.g.classList.toggle("down", down);
      if (!v.g.classList.contains("absent")) v.g.querySelector(".comp-role").textContent = down ? gettext("stopped") : ROLE[b.component];
    }
    for (const [name, f] of this.nodeFrames) {
      const n = nodes[name];
      const notReady = Boolean(n && n.ready === false);
      f.g.classList.toggle("notready", notReady);
      f.ready.textContent = notReady ? gettext("NotReady") : "";
      // Taints grouped by key: "unreachable: NoSchedule, NoExecute".
      const byKey = new Map();
      for (const t of (n && n.taints) || []) {
        if (t.key === "node-role.kubernetes.io/control-plane") continue;
        const k = `${t.key.replace("node.kubernetes.io/", "")}${t.value ? `=${t.value}` : ""}`;
        byKey.set(k, [...(byKey.get(k) || []), t.effect]);
      }
      const text = [...byKey].map(([k, effects]) => `${k}: ${effects.join(", ")}`).join(" · ");
      f.status.textContent = text ? interpolate(gettext("taint %(list)s"), { list: text }) : "";
      f.status.style.fontSize = `${fitSize(f.status.textContent, f.width, 13)}px`;
    }
  }

  draw() {
    const svg = this.svg;
    this.boxes = new Map();
    svg.setAttribute("viewBox", "0 0 1200 676");
    svg.textContent = "";
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrowhead", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);

    const { frames: FRAMES, boxes: BOXES, pods: PODS } = this.layout;
    this.nodeFrames = new Map();   // node name -> {g, status}: NotReady and taints are written on the frame
    const frames = el("g", { class: "frames" }, svg);
    for (const f of FRAMES) {
      const g = el("g", { class: `frame ${f.cls}`, "data-frame": f.id }, frames);
      el("rect", { x: f.x, y: f.y, width: f.w, height: f.h, rx: 14 }, g);
      el("text", { x: f.x + 12, y: f.y + 19, class: "frame-label", style: `font-size:${fitSize(f.label, f.w - 24, 15)}px` }, g, f.label);
      if (f.node) {
        g.dataset.node = f.node;
        this.nodeFrames.set(f.node, { g, frame: f });
      }
      const analogy = FRAME_ANALOGY[f.id] || (f.node && FRAME_ANALOGY[f.cls.includes("frame-cp") ? "control-plane" : "worker"]);
      if (analogy && f.w > 400) el("text", { x: f.x + f.w - 12, y: f.y + 19, class: "frame-analogy", "text-anchor": "end" }, g, pick(analogy));
    }
    for (const [node, p] of Object.entries(PODS)) {
      const g = el("g", { class: "pod-area", "data-node": node || "none" }, frames);
      el("rect", { x: p.x, y: p.y, width: p.w, height: p.h, rx: 10 }, g);
      if (node) el("text", { x: p.x + 10, y: p.y + 17, class: "pod-area-label" }, g, gettext("Pods"));
    }
    // A node's status line (NotReady, taints), over everything else in its frame: on a worker, on its Pod
    // area's title row; on a control-plane node, along the frame's lower edge.
    for (const [node, v] of this.nodeFrames) {
      const p = PODS[node], f = v.frame;
      const at = p && f.cls.indexOf("frame-cp") < 0 ? { x: p.x + p.w - 8, y: p.y + 17, w: p.w - 60 } : { x: f.x + f.w - 12, y: f.y + f.h - 5, w: f.w - 24 };
      v.width = at.w;
      v.status = el("text", { x: at.x, y: at.y, class: "frame-status", "text-anchor": "end" }, frames);
      v.ready = el("text", { x: f.x + f.w - 12, y: f.y + 19, class: "frame-status frame-notready", "text-anchor": "end" }, frames);
    }

    const comps = el("g", { class: "components" }, svg);
    for (const b of BOXES) {
      const g = el("g", { class: `comp comp-${b.component}`, "data-component": b.component, "data-instance": b.instance }, comps);
      el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 10, class: "comp-box" }, g);
      const compact = b.h < 80;
      const name = compact && SHORT_NAME[b.component] && b.w < 150 ? SHORT_NAME[b.component] : NAME[b.component];
      const size = fitSize(name, b.w - 14, b.w >= 190 ? 19 : compact ? 14 : 16);
      const cy = b.y + b.h / 2;
      el("text", { x: b.x + b.w / 2, y: compact ? cy - 2 : cy - 4, class: "comp-name", "font-size": size }, g, name);
      const role = ROLE[b.component] || "";
      const captionY = compact ? cy + 14 : cy + 18, captionMax = compact ? 11 : 13.5;
      el("text", { x: b.x + b.w / 2, y: captionY, class: "comp-role", style: `font-size:${fitSize(role, b.w - 10, captionMax)}px` }, g, role);
      // The analogy layer (hidden unless the diagram has the class "analogy") takes the role caption's place.
      const analogy = pick(ANALOGY[b.component]);
      if (analogy) {
        el("text", { x: b.x + b.w / 2, y: captionY, class: "comp-analogy", "font-size": fitSize(analogy, b.w - 10, captionMax - 0.5) }, g, analogy);
      }
      this.boxes.set(`${b.component}/${b.instance}`, { box: b, g });
    }
    this.podLayer = el("g", { class: "pods" }, svg);
  }

  // The analogy layer on or off.
  setAnalogy(on) {
    this.svg.classList.toggle("analogy", on);
  }

  // A different run: forget the highlight and the pods drawn for the previous one.
  reset() {
    if (this.active) this.active.g.classList.remove("active");
    this.active = null;
    this.podKey = null;
    this.absentChecked = null;
    this.statusKey = null;
  }

  find(component, instance) {
    const exact = this.boxes.get(`${component}/${instance}`);
    if (exact) return exact;
    // Another instance of a drawn component (e.g. apiserver-2) lights the one we draw.
    for (const [key, v] of this.boxes) if (key.startsWith(`${component}/`)) return v;
    return null;
  }

  // Called once per animation frame with the events applied since the last frame.
  // `busy` (events pouring in): boxes do not flash (all of them would, all the time), only one message
  // pulse is in flight at a time and the highlight moves at most every BUSY_ACTIVE_MS.
  render(state, events, busy = false) {
    this.relayout(state);
    this.renderNodeStatus(state);
    if (!busy) this.renderPods(state);   // while busy the page redraws the Pods with the panels
    if (busy !== this.busy) { this.busy = busy; this.svg.classList.toggle("busy", busy); }
    this.markAbsent(state);
    if (!events.length) return;
    // The component that acted last stays highlighted until another one acts.
    let actor = null;
    for (let i = events.length - 1; i >= 0 && !actor; i--) actor = this.find(events[i].component, events[i].instance);
    const now = performance.now();
    if (actor && this.active !== actor && !(busy && now < this.activeUntil)) {
      this.activeUntil = now + BUSY_ACTIVE_MS;
      if (this.active) this.active.g.classList.remove("active");
      actor.g.classList.add("active");
      this.active = actor;
    }

    // Light every component that acted this frame, and pulse the most recent messages.
    const lit = new Set();
    for (const ev of events) {
      const src = this.find(ev.component, ev.instance);
      if (src) lit.add(src);
    }
    if (!busy) for (const v of lit) this.flash(v);
    if (busy && this.inflight > 0) return;
    const sends = events.filter((ev) => ev.to).slice(-MAX_PULSES_PER_FRAME);
    for (const ev of sends) {
      const src = this.find(ev.component, ev.instance);
      const dst = this.find(ev.to.component, ev.to.instance);
      if (src && dst && src !== dst) this.pulse(src, dst, ev.component);
    }
  }

  // The lesson's diagram has a cloud-controller-manager; a cluster without a cloud provider (kind, and the
  // simulated cluster) runs none, so its box is greyed out and says so rather than pretending to work. So
  // is any other box the run's cluster does not have (the second worker, when an HA cluster has one).
  markAbsent(state) {
    const known = state.components || {};
    // Components are listed once, by scenario.started (thousands of kubelets in a large run): look once.
    if (known === this.absentChecked) return;
    if (!Object.keys(known).length) return;   // not known yet
    this.absentChecked = known;
    for (const [key, v] of this.boxes) {
      if (v.box.component === "kubectl" || v.box.instance === "*") continue;
      const absent = !(key in known);
      if (v.g.classList.contains("absent") === absent) continue;
      v.g.classList.toggle("absent", absent);
      v.g.querySelector(".comp-role").textContent = absent ? gettext("not in this cluster") : ROLE[v.box.component];
    }
  }

  // A layer over the diagram, of its size and with its coordinates, animated by the compositor alone.
  layer(cls) {
    return el("svg", { viewBox: "0 0 1200 676", preserveAspectRatio: "xMidYMid meet", class: cls }, this.overlay);
  }

  // A thick outline around the box that fades out.
  flash(v) {
    const b = v.box;
    const ring = this.layer(`flash comp-${b.component}`);
    el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 10 }, ring);
    ring.animate([{ opacity: 1 }, { opacity: 0 }], { duration: FLASH_MS, easing: "ease-out", fill: "forwards" });
    setTimeout(() => ring.remove(), FLASH_MS);
  }

  pulse(src, dst, component) {
    const a = src.box, b = dst.box;
    const [x1, y1] = edgePoint(a, b.x + b.w / 2, b.y + b.h / 2);
    const [x2, y2] = edgePoint(b, a.x + a.w / 2, a.y + a.h / 2);
    const layer = () => this.layer(`pulse pulse-${component}`);
    const line = layer();
    el("line", { x1, y1, x2, y2, "marker-end": "url(#arrowhead)" }, line);
    line.animate([{ opacity: 1 }, { opacity: 1, offset: 0.6 }, { opacity: 0 }], { duration: PULSE_MS + 500, easing: "ease-in", fill: "forwards" });
    const parts = [line];
    if (!this.still.matches) {
      // The dot starts where the message leaves and the whole layer moves, by transform, to where it arrives.
      const dot = layer();
      el("circle", { r: 8, cx: x1, cy: y1 }, dot);
      const k = this.scale;
      dot.animate([{ transform: "translate(0, 0)" }, { transform: `translate(${(x2 - x1) * k}px, ${(y2 - y1) * k}px)` }],
        { duration: PULSE_MS, easing: "ease-in-out", fill: "forwards" });
      parts.push(dot);
    }
    dst.g.classList.add("receiving");
    this.inflight += 1;
    setTimeout(() => {
      for (const p of parts) p.remove();
      dst.g.classList.remove("receiving");
      this.inflight -= 1;
    }, PULSE_MS + 500);
  }

  renderPods(state) {
    const pods = Object.values(state.pods || {});
    const key = JSON.stringify(pods);
    if (key === this.podKey) return; // nothing changed: leave the DOM alone
    this.podKey = key;
    this.podLayer.textContent = "";
    const PODS = this.layout.pods;
    const perArea = {};
    for (const pod of pods) {
      // A Pod on a node drawn without a Pod area (an HA control-plane node, a node of a cluster too big
      // to draw node by node) is not drawn; the Pod status list and the cluster map show it.
      if (pod.node && !PODS[pod.node]) continue;
      const area = pod.node && PODS[pod.node] ? pod.node : "";
      (perArea[area] ||= []).push(pod);
    }
    for (const [area, list] of Object.entries(perArea)) {
      const p = PODS[area];
      const narrow = p.w < 300, small = p.h < 160;   // small: a narrow worker's area - name and phase only
      const cw = narrow ? p.w - 16 : (p.w - 26) / 2, ch = small ? 40 : 74;
      const top = p.y + (area ? 26 : 10);
      let shown = 0;
      list.forEach((pod, i) => {
        const col = narrow ? 0 : i % 2, row = narrow ? i : Math.floor(i / 2);
        const x = p.x + 8 + col * (cw + 10), y = top + row * (ch + 8);
        if (y + ch > p.y + p.h - (i < list.length - 1 ? 14 : 0)) return;
        shown += 1;
        const g = el("g", { class: `pod phase-${(pod.phase || "Pending").toLowerCase()}`, "data-pod": `${pod.namespace}/${pod.name}`, "data-phase": pod.phase }, this.podLayer);
        el("rect", { x, y, width: cw, height: ch, rx: small ? 7 : 10 }, g);
        const phase = pod.phase + (pod.ready ? " · Ready" : "");
        if (small) {
          el("text", { x: x + 7, y: y + 16, class: "pod-name", style: `font-size:${fitSize(pod.name, cw - 12, 13)}px` }, g, pod.name);
          el("text", { x: x + 7, y: y + 33, class: "pod-phase", style: "font-size:11px" }, g, phase);
          return;
        }
        el("text", { x: x + 10, y: y + 22, class: "pod-name", style: `font-size:${fitSize(pod.name, cw - 16, 15)}px` }, g, `${pod.name}`);
        el("text", { x: x + 10, y: y + 44, class: "pod-phase" }, g, phase);
        el("text", { x: x + 10, y: y + 64, class: "pod-ip" }, g, pod.ip ? pod.ip : (pod.node ? pod.node : gettext("no node yet")));
      });
      if (shown < list.length) {
        el("text", { x: p.x + p.w - 10, y: p.y + p.h - 5, class: "pod-more", "text-anchor": "end" }, this.podLayer,
          interpolate(gettext("+%(n)s more"), { n: list.length - shown }));
      }
    }
  }
}
