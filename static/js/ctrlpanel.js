// The controller panel: per controller, desired vs current, what its last sync did, its work queue, and
// the reconcile loop (observe → compare → act) drawn as a cycle whose marker moves on with every sync;
// and which instance holds each leader-election Lease (only the holder's loops act). Drawn from
// state.controllers, so it is the same live, after a snapshot and on a finished run.

import { gettext, interpolate } from "./i18n.js";
import { el, svgEl as svg, SlicePanel } from "./dom.js";

// A count as a controller reports it: a number, or named numbers (the endpoints controllers report
// {ready, notReady}), shown as "ready 2 · notReady 0".
function count(v) {
  if (v == null) return "?";
  if (typeof v === "object") return Object.entries(v).map(([k, n]) => `${k} ${n}`).join(" · ");
  return String(v);
}

const PHASES = [gettext("observe"), gettext("compare"), gettext("act")];

// The loop: three arcs (observe, compare, act) and a marker that has gone round `turns` times.
function loopDrawing(turns) {
  const s = svg("svg", { viewBox: "0 0 120 120", class: "loop", role: "img" });
  const title = svg("title", {}, s);
  title.textContent = interpolate(gettext("reconcile loop, turn %(n)s"), { n: turns });
  const cx = 60, cy = 60, r = 44;
  PHASES.forEach((name, i) => {
    const a0 = (i * 120 - 90 + 6) * Math.PI / 180, a1 = ((i + 1) * 120 - 90 - 6) * Math.PI / 180;
    svg("path", { d: `M ${cx + r * Math.cos(a0)} ${cy + r * Math.sin(a0)} A ${r} ${r} 0 0 1 ${cx + r * Math.cos(a1)} ${cy + r * Math.sin(a1)}`,
      class: `arc arc-${i}` }, s);
    const am = ((i + 0.5) * 120 - 90) * Math.PI / 180;
    const label = svg("text", { x: cx + (r - 17) * Math.cos(am), y: cy + (r - 17) * Math.sin(am) + 4, class: "arc-label" }, s);
    label.textContent = name;
  });
  // The marker moves a twelfth of the way round with every sync, so each reconcile is seen to happen;
  // the number in the middle counts them.
  const a = ((turns % 12) * 30 - 90) * Math.PI / 180;
  svg("circle", { cx: cx + r * Math.cos(a), cy: cy + r * Math.sin(a), r: 6, class: "marker" }, s);
  const n = svg("text", { x: cx, y: cy + 6, class: "turns" }, s);
  n.textContent = String(turns);
  return s;
}

export class ControllerPanel extends SlicePanel {
  render(state) {
    const ctl = state.controllers || { loops: {}, leases: {} };
    if (!this.changed(ctl)) return;
    const body = this.body;

    const leases = Object.entries(ctl.leases);
    const lbox = el("div", "leases");
    lbox.append(el("h3", null, gettext("Leader election (Leases)")));
    if (!leases.length) lbox.append(el("p", "panel-empty", gettext("No Lease seen yet.")));
    const ul = el("ul", "lease-list");
    for (const [lease, holder] of leases) {
      const li = el("li");
      li.dataset.lease = lease;
      li.dataset.holder = holder || "";
      li.append(el("code", null, lease), " → ", holder ? el("strong", null, holder) : el("em", null, gettext("no holder: the loops wait")));
      ul.append(li);
    }
    lbox.append(ul);
    body.append(lbox);

    const loops = Object.entries(ctl.loops).sort(([a], [b]) => a.localeCompare(b));
    if (!loops.length) {
      body.append(el("p", "panel-empty", gettext("No controller has had to act yet: desired and current state already agree.")));
      return;
    }
    const grid = el("div", "ctl-grid");
    for (const [name, c] of loops) {
      const card = el("article", "ctl");
      card.dataset.controller = name;
      card.dataset.reconciles = String(c.reconciles);
      const text = el("div", "ctl-text");
      text.append(el("h3", null, `${name} ${gettext("controller")}`));
      if (c.desired != null || c.current != null) {
        const same = JSON.stringify(c.desired) === JSON.stringify(c.current);
        const dc = el("p", `ctl-counts${same ? " settled" : " diverged"}`);
        dc.append(el("span", "k when", gettext("at its last sync:")), el("span", "k", gettext("desired")), el("strong", "desired", count(c.desired)),
          el("span", "k", gettext("current")), el("strong", "current", count(c.current)),
          el("span", "state", same ? `✓ ${gettext("in step")}` : `≠ ${gettext("a gap to close")}`));
        text.append(dc);
      }
      text.append(el("p", "ctl-action", interpolate(gettext("Last sync of %(key)s: %(action)s"), { key: c.key || "?", action: c.action || "" })));
      text.append(el("p", "ctl-meta", interpolate(gettext("work queue: %(q)s · syncs: %(n)s · on %(instance)s"),
        { q: c.queue ?? 0, n: c.reconciles, instance: c.instance })));
      card.append(loopDrawing(c.reconciles), text);
      grid.append(card);
    }
    body.append(grid);
  }
}
