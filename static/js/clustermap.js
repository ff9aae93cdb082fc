// The cluster map: when a run has more nodes than the architecture diagram can draw as boxes, every node is
// a cell on one canvas, grouped by zone (topology.kubernetes.io/zone), its colour the number of Pods bound
// to it (Pods the run follows in full, plus the bindings a large run's summary level counts per node),
// from none to as many as the busiest node has. Hover or move the keyboard focus over a cell for the node's details; a sentence
// under the map says the same in words. Redrawn at most a few times a second, in one pass over the nodes,
// so 5,000 nodes and 150,000 Pods stay smooth.

import { gettext, interpolate } from "./i18n.js";
import { diagramFits } from "./arch.js";   // the diagram draws up to 3 control-plane nodes and 6 workers

const ZONE = "topology.kubernetes.io/zone";
const REDRAW_EVERY_MS = 250;
const PAD = 8;
const LABEL_H = 18;
// Light to dark: no Pod … as many as the busiest node.
const RAMP = [[236, 253, 245], [134, 239, 172], [34, 197, 94], [21, 128, 61], [20, 83, 45]];

function ramp(frac) {
  const f = Math.max(0, Math.min(1, frac)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(f));
  const t = f - i;
  const c = RAMP[i].map((v, k) => Math.round(v + (RAMP[i + 1][k] - v) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// The ramp in 64 steps, made once: a map of 5,000 cells asks for a colour 5,000 times a draw.
const SHADES = Array.from({ length: 64 }, (_, i) => ramp(i / 63));
function colour(frac) {
  return SHADES[Math.round(Math.max(0, Math.min(1, frac)) * 63)];
}

// Pods per node: those the state follows one by one, plus the counted bindings.
export function podsPerNode(state) {
  const per = {};
  for (const [name, n] of Object.entries(state.nodes || {})) per[name] = n.bound || 0;
  for (const p of Object.values(state.pods || {})) if (p.node && p.node in per) per[p.node] += 1;
  return per;
}

export class ClusterMap {
  constructor(root) {
    this.root = root;
    this.canvas = root.querySelector("canvas");
    this.tip = root.querySelector(".map-tip");
    this.words = root.querySelector(".map-words");
    this.cells = [];
    this.state = null;
    this.timer = null;
    this.at = 0;
    this.canvas.addEventListener("mousemove", (e) => this.hover(e.offsetX, e.offsetY));
    this.canvas.addEventListener("mouseleave", () => { this.tip.hidden = true; });
    this.focusIndex = -1;
    this.canvas.addEventListener("keydown", (e) => this.key(e));
    // The width is learnt when it changes, not read while drawing (a read then would make the browser lay
    // the page out in the middle of a frame).
    this.width = 0;
    this.grid = null;   // where each node's cell goes, kept while the nodes and the width stay the same
    new ResizeObserver(() => {
      const w = root.clientWidth;   // (layout is up to date when the observer reports)
      if (w && w !== this.width) { this.width = w; if (this.state && !this.timer) this.draw(); }
    }).observe(root);
  }

  reset() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.state = null;
    this.cells = [];
    this.grid = null;
    this.root.hidden = true;
  }

  // `busy`: the page calls this only every so often, so draw at once (in the frame that draws the other
  // panels) rather than in a frame of its own.
  render(state, busy = false) {
    this.root.hidden = diagramFits(state.nodes);
    if (this.root.hidden) return;
    this.state = state;
    if (busy) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.draw();
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.at + REDRAW_EVERY_MS - performance.now());
    if (wait === 0) this.draw();
    else this.timer = setTimeout(() => { this.timer = null; this.draw(); }, wait);
  }

  // The cells' places: zones in name order, nodes in name order within a zone, wrapping at the width.
  layout(state, width) {
    const total = Object.keys(state.nodes).length;
    const key = `${total}|${width}`;
    if (this.grid && this.grid.key === key) return this.grid;
    const zones = new Map();
    for (const [name, node] of Object.entries(state.nodes)) {
      const z = (node.labels || {})[ZONE] || gettext("(no zone)");
      if (!zones.has(z)) zones.set(z, []);
      zones.get(z).push(name);
    }
    const size = total > 2000 ? 7 : total > 500 ? 10 : total > 100 ? 16 : 24;
    const cols = Math.max(1, Math.floor(width / (size + 1)));
    const groups = [];
    let y = PAD;
    for (const z of [...zones.keys()].sort()) {
      const members = zones.get(z).sort();
      const label = y;
      y += LABEL_H;
      const cells = members.map((m, i) => ({ name: m, zone: z, x: (i % cols) * (size + 1), y: y + Math.floor(i / cols) * (size + 1), size, pods: 0, cap: 0 }));
      groups.push({ zone: z, label, cells });
      y += Math.ceil(members.length / cols) * (size + 1) + PAD;
    }
    this.grid = { key, groups, width, height: y, cells: groups.flatMap((g) => g.cells) };
    return this.grid;
  }

  // One pass over the nodes.
  draw() {
    this.at = performance.now();
    const state = this.state;
    const per = podsPerNode(state);
    let most = 1;
    for (const name in per) if (per[name] > most) most = per[name];
    const hi = this.root.querySelector(".map-legend .hi");
    if (hi) hi.textContent = interpolate(gettext("%(n)s Pods"), { n: most });
    if (!this.width) this.width = this.root.clientWidth;   // before the first resize report
    const grid = this.layout(state, Math.max(320, this.width - 2 * PAD));
    const { width, height } = grid;
    const dpr = window.devicePixelRatio || 1;
    const cv = this.canvas;
    if (cv.width !== Math.round(width * dpr) || cv.height !== Math.round(height * dpr)) {
      cv.width = Math.round(width * dpr);
      cv.height = Math.round(height * dpr);
      cv.style.width = `${width}px`;
      cv.style.height = `${height}px`;
    }
    const ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    let pods = 0;
    let busiest = null;
    for (const g of grid.groups) {
      let zp = 0;
      for (const c of g.cells) {
        const node = state.nodes[c.name];
        c.pods = per[c.name];
        c.cap = Number((node.allocatable || {}).pods) || 110;
        zp += c.pods;
        ctx.fillStyle = node.ready === false ? "#fca5a5" : colour(c.pods / most);
        ctx.fillRect(c.x, c.y, c.size, c.size);
        if (!busiest || c.pods > busiest.pods) busiest = { name: c.name, pods: c.pods };
      }
      pods += zp;
      ctx.fillStyle = "#334155";
      ctx.fillText(interpolate(gettext("%(zone)s · %(nodes)s nodes · %(pods)s Pods"), { zone: g.zone, nodes: g.cells.length, pods: zp }), 0, g.label);
    }
    const cells = grid.cells;
    this.cells = cells;
    cv.dataset.cells = String(cells.length);
    cv.dataset.pods = String(pods);
    cv.dataset.zones = String(grid.groups.length);
    this.words.textContent = interpolate(gettext("%(nodes)s nodes in %(zones)s zones; %(pods)s Pods bound; the busiest node is %(node)s with %(n)s."),
      { nodes: cells.length, zones: grid.groups.length, pods, node: busiest ? busiest.name : "-", n: busiest ? busiest.pods : 0 });
  }

  cellAt(x, y) {
    return this.cells.find((c) => x >= c.x && x < c.x + c.size && y >= c.y && y < c.y + c.size) || null;
  }

  describe(c) {
    const node = this.state.nodes[c.name];
    const alloc = node.allocatable || {};
    return interpolate(gettext("%(name)s (%(zone)s): %(pods)s of %(cap)s Pods · CPU %(cpu)s · memory %(mem)s"),
      { name: c.name, zone: c.zone, pods: c.pods, cap: c.cap, cpu: alloc.cpu || "?", mem: alloc.memory || "?" });
  }

  show(c) {
    if (!c) { this.tip.hidden = true; return; }
    this.tip.hidden = false;
    this.tip.dataset.node = c.name;
    this.tip.textContent = this.describe(c);
    this.tip.style.left = `${c.x + c.size + 10}px`;
    this.tip.style.top = `${c.y}px`;
  }

  hover(x, y) {
    this.show(this.cellAt(x, y));
  }

  // Arrow keys move a focus from cell to cell, so the details are reachable without a mouse.
  key(e) {
    if (!this.cells.length || !["ArrowRight", "ArrowLeft", "ArrowDown", "ArrowUp"].includes(e.key)) return;
    e.preventDefault();
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : e.key === "ArrowDown" ? 10 : -10;
    this.focusIndex = Math.max(0, Math.min(this.cells.length - 1, this.focusIndex + step));
    this.show(this.cells[this.focusIndex]);
  }
}
