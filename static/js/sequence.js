// The sequence diagram: a lifeline per component (kubectl, API server, etcd, controller-manager, scheduler,
// kubelet, container runtime; the load balancer and kube-proxy when a run has them) and one labelled arrow
// per event that flows from one to another, grouped by lesson step. Drawn from state.sequence (the last
// 300 arrows), so it is the same live, after a snapshot and on a finished run; it follows the newest arrow
// unless the viewer has scrolled up.

import { gettext, interpolate } from "./i18n.js";
import { Follower, svgEl as svg } from "./dom.js";

const LANES = ["kubectl", "load-balancer", "apiserver", "etcd", "controller-manager", "scheduler", "kubelet",
  "container-runtime", "kube-proxy"];
const ALWAYS = new Set(["kubectl", "apiserver", "etcd", "controller-manager", "scheduler", "kubelet", "container-runtime"]);
const LANE_NAME = {
  kubectl: "kubectl", "load-balancer": gettext("load balancer"), apiserver: "kube-apiserver", etcd: "etcd",
  "controller-manager": "controller-manager", scheduler: "kube-scheduler", kubelet: "kubelet",
  "container-runtime": gettext("container runtime"), "kube-proxy": "kube-proxy",
};
const ROW = 26;
const LANE_W = 150;
const BUSY_ARROWS = 40;

// An event from a component acting as a client (the scheduler binding, a kubelet reporting) is drawn
// from that component's lifeline; a "client" without a lifeline of its own is drawn from kubectl's.
function lane(component) {
  return LANES.includes(component) ? component : "kubectl";
}

export class SequenceView {
  constructor(root) {
    this.root = root;
    this.scroll = root.querySelector(".seq-scroll");
    // The lane names stay in view above the scrolling arrows (kept level with them sideways).
    this.head = document.createElement("div");
    this.head.className = "seq-head";
    this.head.setAttribute("aria-hidden", "true");
    this.scroll.before(this.head);
    this.scroll.addEventListener("scroll", () => { this.head.scrollLeft = this.scroll.scrollLeft; }, { passive: true });
    this.follower = new Follower(this.scroll);
    this.last = null;
    this.count = -1;
  }

  reset() {
    this.last = null;
    this.count = -1;
    this.scroll.textContent = "";
    this.head.textContent = "";
  }

  // `busy` (events pouring in): only the newest BUSY_ARROWS are drawn - the window of 300 turns over faster
  // than anyone can read it, and drawing it whole every half second would cost more than the rest of the
  // page. The whole window is back as soon as the pace drops or the run ends.
  render(state, busy = false) {
    const all = state.sequence || [];
    const arrows = busy ? all.slice(-BUSY_ARROWS) : all;
    const last = arrows.length ? arrows[arrows.length - 1] : null;
    if (arrows.length === this.count && last === this.last) return;
    this.count = arrows.length;
    this.last = last;
    const sc = this.scroll;
    sc.textContent = "";
    if (!arrows.length) {
      const p = document.createElement("p");
      p.className = "panel-empty";
      p.textContent = gettext("No message between components yet.");
      sc.append(p);
      return;
    }
    const used = new Set(arrows.flatMap((a) => [lane(a.from), lane(a.to)]));
    const lanes = LANES.filter((l) => ALWAYS.has(l) || used.has(l));
    const x = Object.fromEntries(lanes.map((l, i) => [l, LANE_W / 2 + i * LANE_W]));
    let rows = arrows.length;
    let step = null;
    for (const a of arrows) if (a.step != null && a.step !== step) { rows += 1; step = a.step; }
    const width = lanes.length * LANE_W;
    const height = rows * ROW + 14;
    const s = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "seq", role: "img" });
    svg("title", {}, s, interpolate(gettext("Sequence diagram of the last %(n)s messages"), { n: arrows.length }));
    const defs = svg("defs", {}, s);
    const m = svg("marker", { id: "seq-head", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, defs);
    svg("path", { d: "M0,0 L10,5 L0,10 z" }, m);
    const head = svg("svg", { width, height: 36, viewBox: `0 0 ${width} 36`, class: "seq" });
    for (const l of lanes) {
      svg("line", { x1: x[l], y1: 0, x2: x[l], y2: height, class: `lifeline c-${l}` }, s);
      svg("rect", { x: x[l] - LANE_W / 2 + 6, y: 4, width: LANE_W - 12, height: 28, rx: 6, class: `lane-head c-${l}` }, head);
      svg("text", { x: x[l], y: 23, class: "lane-name" }, head, LANE_NAME[l]);
    }
    this.head.textContent = "";
    this.head.append(head);
    let y = 4;
    step = null;
    for (const a of arrows) {
      if (a.step != null && a.step !== step) {
        step = a.step;
        svg("line", { x1: 0, y1: y + 4, x2: width, y2: y + 4, class: "step-rule" }, s);
        svg("text", { x: 6, y: y + 18, class: "step-label" }, s, interpolate(gettext("step %(n)s"), { n: step }));
        y += ROW;
      }
      const from = lane(a.from);
      const to = lane(a.to);
      const g = svg("g", { class: `msg c-${from}`, "data-seq": String(a.seq), "data-type": a.type }, s);
      const yy = y + ROW / 2 + 4;
      if (from === to) {
        const x0 = x[from];
        svg("path", { d: `M ${x0} ${yy - 6} h 26 v 12 h -24`, class: "arrow", "marker-end": "url(#seq-head)" }, g);
        svg("text", { x: x0 + 32, y: yy + 4, class: "msg-label self" }, g, a.summary.slice(0, 60));
      } else {
        svg("line", { x1: x[from], y1: yy, x2: x[to] + (x[to] > x[from] ? -4 : 4), y2: yy, class: "arrow", "marker-end": "url(#seq-head)" }, g);
        svg("text", { x: (x[from] + x[to]) / 2, y: yy - 5, class: "msg-label" }, g, a.summary.slice(0, Math.max(18, Math.abs(x[to] - x[from]) / 6.2)));
      }
      svg("title", {}, g, `${a.t.toFixed(3)}s  ${a.fi} → ${a.ti}: ${a.summary}`);
      y += ROW;
    }
    sc.append(s);
    this.follower.follow();
  }
}
