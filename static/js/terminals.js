// The lesson's terminals: what `kubectl get pods -w`, `kubectl get events -w --sort-by=.lastTimestamp` and
// `etcdctl watch /registry/ --prefix --keys-only` would have printed by now, with the real tools' columns
// and formats (kubectl's AGE and LAST SEEN as its HumanDuration writes them). Drawn from state.terminals,
// whose lines carry the data; ages are worked out here from each line's time, as kubectl does when it
// prints the line. Tool output stays in English, as the tools print it.

import { gettext } from "./i18n.js";
import { Follower } from "./dom.js";

const EPOCH_MS = Date.parse("2025-01-01T00:00:00Z"); // the simulator's clock starts here (simulator/clock.py)

// k8s.io/apimachinery/pkg/util/duration HumanDuration, for whole seconds.
export function humanDuration(seconds) {
  const s = Math.trunc(seconds);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return `${s}s`;
  const minutes = Math.trunc(s / 60);
  if (minutes < 10) return s % 60 === 0 ? `${minutes}m` : `${minutes}m${s % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(s / 3600);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

// Virtual second 0: the simulator's fixed epoch, or the wall-clock moment a live cluster or a real cluster's
// run started (state.epoch), since their objects carry wall-clock timestamps.
let epochMs = EPOCH_MS;

// Seconds from `stamp` (RFC 3339) to the line's time t (seconds on the run's clock).
function since(stamp, t) {
  if (!stamp) return "<unknown>";
  const at = (Date.parse(stamp) - epochMs) / 1000;
  return Number.isNaN(at) ? "<unknown>" : humanDuration(t - at);
}

// Columns padded as kubectl's tabwriter pads them (3 spaces); widths only grow, so a watch's lines stay
// aligned under the header the way they do in a real terminal.
class Table {
  constructor(header) {
    this.header = header;
    this.widths = header.map((h) => h.length);
  }

  line(cells) {
    cells.forEach((c, i) => { this.widths[i] = Math.max(this.widths[i], String(c).length); });
    return cells.map((c, i) => (i === cells.length - 1 ? String(c) : String(c).padEnd(this.widths[i] + 3))).join("");
  }
}

function podLines(rows) {
  const table = new Table(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
  const body = rows.map((r) => table.line([r.name, r.ready, r.status,
    r.restarts && r.last_restart ? `${r.restarts} (${since(r.last_restart, r.t)} ago)` : String(r.restarts),
    since(r.created, r.t)]));
  return [table.line(table.header), ...body];
}

function eventLines(rows) {
  const table = new Table(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
  const body = rows.map((r) => table.line([since(r.last, r.t), r.type || "", r.reason || "", r.object, r.message || ""]));
  return [table.line(table.header), ...body];
}

function etcdLines(rows) {
  const out = [];
  for (const r of rows) out.push(r.op, r.key);
  return out;
}

const TERMINALS = [
  { id: "pods", command: "kubectl get pods -w", lines: podLines },
  { id: "events", command: "kubectl get events -w --sort-by=.lastTimestamp", lines: eventLines },
  { id: "etcd", command: "etcdctl watch /registry/ --prefix --keys-only", lines: etcdLines },
];

export class TerminalsPanel {
  constructor(root) {
    this.root = root;
    this.screens = {};
    const grid = root.querySelector(".term-grid");
    for (const t of TERMINALS) {
      const box = document.createElement("div");
      box.className = "term";
      box.dataset.term = t.id;
      const title = document.createElement("div");
      title.className = "term-title";
      title.textContent = `$ ${t.command}`;
      const pre = document.createElement("pre");
      pre.className = "term-screen";
      pre.tabIndex = 0;
      pre.setAttribute("aria-label", t.command);
      box.append(title, pre);
      grid.append(box);
      this.screens[t.id] = { pre, count: -1, last: null, follower: new Follower(pre, 4) };
    }
    this.reset();
  }

  reset() {
    for (const t of TERMINALS) {
      const s = this.screens[t.id];
      s.count = -1;
      s.last = null;
      s.pre.textContent = gettext("(waiting for the first line)");
    }
  }

  // An `api` run watches its own namespace on a real cluster, and etcd with etcdctl in the etcd Pod (or, when
  // that cannot run, through the API server's watch).
  titles(state) {
    const etcdSource = (state.etcd && state.etcd.source) || "";
    const key = `${state.backend}|${state.namespace}|${etcdSource}`;
    if (key === this.titleKey) return;
    this.titleKey = key;
    const real = state.backend === "api";
    for (const t of TERMINALS) {
      const title = this.root.querySelector(`.term[data-term="${t.id}"] .term-title`);
      let text = `$ ${t.command}`;
      if (real && t.id !== "etcd") text = `$ ${t.command.replace(" -w", ` -n ${state.namespace} -w`)}`;
      if (real && t.id === "etcd") {
        text += ` · ${etcdSource === "etcdctl" ? gettext("run in the etcd Pod with kubectl exec")
          : gettext("keys from the API watch, etcd not read directly")}`;
      }
      title.textContent = text;
    }
  }

  render(state) {
    this.titles(state);
    const epoch = state.epoch ? Date.parse(state.epoch) : EPOCH_MS;
    if (!Number.isNaN(epoch) && epoch !== epochMs) {
      epochMs = epoch;
      for (const t of TERMINALS) this.screens[t.id].count = -1;   // every age changes: redraw
    }
    const terms = state.terminals || { pods: [], events: [], etcd: [] };
    for (const t of TERMINALS) {
      const rows = terms[t.id] || [];
      const s = this.screens[t.id];
      const last = rows.length ? rows[rows.length - 1] : null;
      if (rows.length === s.count && last === s.last) continue; // nothing new on this screen
      s.count = rows.length;
      s.last = last;
      const pre = s.pre;
      pre.textContent = rows.length ? t.lines(rows).join("\n") : gettext("(waiting for the first line)");
      pre.dataset.lines = String(rows.length);
      s.follower.follow();
    }
  }
}
