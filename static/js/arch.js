// The architecture diagram: the cluster as in the lesson (control plane above, worker nodes below,
// kubectl outside on the user's laptop), drawn once as SVG; each frame lights the components that acted
// and sends a pulse along `to`. Pods are redrawn from the folded state in their node's pod area.

import { gettext, pick } from "./i18n.js";
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
  apiserver: "kube-apiserver",
  etcd: "etcd",
  scheduler: "kube-scheduler",
  "controller-manager": "kube-controller-manager",
  "cloud-controller-manager": "cloud-controller-manager",
  kubelet: "kubelet",
  "kube-proxy": "kube-proxy",
  "container-runtime": gettext("container runtime"),
};

// Frames (x, y, w, h) and the boxes inside them. The topology is pod-create's: one control-plane node
// (which, as in kind, also runs a kubelet, kube-proxy and runtime) and two workers. The API server sits
// at the control plane's lower left, nearest to kubectl and the workers, so that the arrows of the many
// messages to and from it do not cross other components.
const FRAMES = [
  { id: "laptop", x: 10, y: 30, w: 190, h: 170, label: gettext("Your laptop"), cls: "frame-outside" },
  { id: "unscheduled", x: 10, y: 225, w: 190, h: 430, label: gettext("Waiting for a node"), cls: "frame-pods" },
  { id: "cluster", x: 215, y: 8, w: 975, h: 660, label: gettext("Kubernetes cluster"), cls: "frame-cluster" },
  { id: "node:control-plane", x: 230, y: 36, w: 945, h: 262, label: gettext("Node control-plane · control plane"), cls: "frame-node frame-cp" },
  { id: "node:worker-1", x: 230, y: 315, w: 465, h: 340, label: gettext("Node worker-1 · worker"), cls: "frame-node" },
  { id: "node:worker-2", x: 710, y: 315, w: 465, h: 340, label: gettext("Node worker-2 · worker"), cls: "frame-node" },
];

const BOXES = [
  { component: "kubectl", instance: "kubectl", x: 28, y: 80, w: 154, h: 96 },
  { component: "etcd", instance: "etcd-1", x: 248, y: 70, w: 236, h: 100 },
  { component: "scheduler", instance: "scheduler-1", x: 502, y: 70, w: 200, h: 100 },
  { component: "controller-manager", instance: "controller-manager-1", x: 720, y: 70, w: 225, h: 100 },
  { component: "cloud-controller-manager", instance: "cloud-controller-manager-1", x: 963, y: 70, w: 196, h: 100 },
  { component: "apiserver", instance: "apiserver-1", x: 248, y: 186, w: 236, h: 96 },
  { component: "kubelet", instance: "control-plane", x: 502, y: 196, w: 130, h: 86 },
  { component: "kube-proxy", instance: "control-plane", x: 642, y: 196, w: 130, h: 86 },
  { component: "container-runtime", instance: "control-plane", x: 782, y: 196, w: 150, h: 86 },
];
const PODS = {
  "control-plane": { x: 948, y: 186, w: 211, h: 96 },
  "": { x: 22, y: 252, w: 166, h: 392 }, // not yet scheduled
};
for (const [i, node] of ["worker-1", "worker-2"].entries()) {
  const x0 = 230 + i * 480;
  BOXES.push(
    { component: "kubelet", instance: node, x: x0 + 16, y: 350, w: 138, h: 90 },
    { component: "kube-proxy", instance: node, x: x0 + 164, y: 350, w: 138, h: 90 },
    { component: "container-runtime", instance: node, x: x0 + 312, y: 350, w: 138, h: 90 },
  );
  PODS[node] = { x: x0 + 16, y: 458, w: 434, h: 182 };
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
  for (const ch of text) ems += ch.codePointAt(0) > 0x2e80 ? 1 : 0.56;
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
    this.draw();
  }

  draw() {
    const svg = this.svg;
    svg.setAttribute("viewBox", "0 0 1200 676");
    svg.textContent = "";
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrowhead", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);

    const frames = el("g", { class: "frames" }, svg);
    for (const f of FRAMES) {
      const g = el("g", { class: `frame ${f.cls}`, "data-frame": f.id }, frames);
      el("rect", { x: f.x, y: f.y, width: f.w, height: f.h, rx: 14 }, g);
      el("text", { x: f.x + 12, y: f.y + 19, class: "frame-label" }, g, f.label);
      if (FRAME_ANALOGY[f.id]) el("text", { x: f.x + f.w - 12, y: f.y + 19, class: "frame-analogy", "text-anchor": "end" }, g, pick(FRAME_ANALOGY[f.id]));
    }
    for (const [node, p] of Object.entries(PODS)) {
      const g = el("g", { class: "pod-area", "data-node": node || "none" }, frames);
      el("rect", { x: p.x, y: p.y, width: p.w, height: p.h, rx: 10 }, g);
      if (node) el("text", { x: p.x + 10, y: p.y + 17, class: "pod-area-label" }, g, gettext("Pods"));
    }

    const comps = el("g", { class: "components" }, svg);
    for (const b of BOXES) {
      const g = el("g", { class: `comp comp-${b.component}`, "data-component": b.component, "data-instance": b.instance }, comps);
      el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 10, class: "comp-box" }, g);
      const name = NAME[b.component];
      const big = b.w >= 190;
      const size = name.length * (big ? 10 : 8.6) > b.w - 16 ? (big ? 15 : 13) : (big ? 19 : 16);
      el("text", { x: b.x + b.w / 2, y: b.y + b.h / 2 - 4, class: "comp-name", "font-size": size }, g, name);
      el("text", { x: b.x + b.w / 2, y: b.y + b.h / 2 + 18, class: "comp-role" }, g, ROLE[b.component] || "");
      // The analogy layer (hidden unless the diagram has the class "analogy") takes the role caption's place.
      const analogy = pick(ANALOGY[b.component]);
      if (analogy) {
        el("text", { x: b.x + b.w / 2, y: b.y + b.h / 2 + 18, class: "comp-analogy", "font-size": fitSize(analogy, b.w - 12, 13) }, g, analogy);
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
      if (v.box.component === "kubectl") continue;
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
    const perArea = {};
    for (const pod of pods) {
      const area = pod.node && PODS[pod.node] ? pod.node : "";
      (perArea[area] ||= []).push(pod);
    }
    for (const [area, list] of Object.entries(perArea)) {
      const p = PODS[area];
      const narrow = p.w < 300;
      const cw = narrow ? p.w - 16 : 205, ch = 74;
      list.forEach((pod, i) => {
        const col = narrow ? 0 : i % 2, row = narrow ? i : Math.floor(i / 2);
        const x = p.x + 8 + col * (cw + 10), y = p.y + (area ? 26 : 10) + row * (ch + 8);
        if (y + ch > p.y + p.h) return;
        const g = el("g", { class: `pod phase-${(pod.phase || "Pending").toLowerCase()}`, "data-pod": `${pod.namespace}/${pod.name}`, "data-phase": pod.phase }, this.podLayer);
        el("rect", { x, y, width: cw, height: ch, rx: 10 }, g);
        el("text", { x: x + 10, y: y + 22, class: "pod-name" }, g, `${pod.name}`);
        el("text", { x: x + 10, y: y + 44, class: "pod-phase" }, g, pod.phase + (pod.ready ? " · Ready" : ""));
        el("text", { x: x + 10, y: y + 64, class: "pod-ip" }, g, pod.ip ? pod.ip : (pod.node ? pod.node : gettext("no node yet")));
      });
    }
  }
}
