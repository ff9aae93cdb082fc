// The scheduler panel: the latest scheduling cycle as a table of nodes × plugins (Filter pass/fail with
// the reason, each Score plugin's normalized score times its weight, the weighted total, the chosen node),
// the plugins PreFilter/PreScore skipped, the FailedScheduling message when nothing fits, and the Pods
// waiting in backoffQ / unschedulablePods. Drawn from state.scheduler only, so it is the same live, after
// a snapshot, and on a finished run.

import { gettext, interpolate } from "./i18n.js";
import { el, SlicePanel } from "./dom.js";

const QUEUE_TEXT = {
  backoffQ: gettext("backoffQ (waiting out a back-off)"),
  unschedulablePods: gettext("unschedulablePods (until the cluster changes)"),
};

// A plugin's name as a header cell that may wrap only between its words (NodeResources|Fit).
function pluginHeader(name) {
  const th = el("th", "col-plugin");
  th.title = name;
  name.split(/(?=[A-Z][a-z])/).forEach((part, i) => {
    if (i) th.append(document.createElement("wbr"));
    th.append(part);
  });
  return th;
}

// Plugin names in the order they first appear across the nodes (the framework's order).
function pluginsOf(byNode) {
  const seen = [];
  for (const plugins of Object.values(byNode || {})) {
    for (const p of Object.keys(plugins || {})) if (!seen.includes(p)) seen.push(p);
  }
  return seen;
}

function filterCell(status) {
  const td = el("td", "f-cell");
  if (!status) {
    td.classList.add("f-notrun");
    td.textContent = "–";
    td.title = gettext("not run: an earlier filter already rejected this node");
    return td;
  }
  if (status.code === "Success") {
    td.classList.add("f-pass");
    td.append(el("span", "icon", "✓"), el("span", "word", gettext("pass")));
    return td;
  }
  td.classList.add("f-fail");
  td.dataset.code = status.code;
  td.append(el("span", "icon", "✗"), el("span", "word", status.reason || status.code));
  td.title = status.code;
  return td;
}

export class SchedulerPanel extends SlicePanel {
  reset() {
    super.reset();
    this.render({ scheduler: { cycles: 0, cycle: null, queues: {} } });
  }

  render(state) {
    const sch = state.scheduler || { cycles: 0, cycle: null, queues: {} };
    if (!this.changed(sch)) return;
    const body = this.body;
    const cyc = sch.cycle;
    this.root.dataset.cycle = cyc ? String(cyc.n) : "0";
    if (!cyc) {
      body.append(el("p", "panel-empty", gettext("No scheduling cycle yet: the scheduler acts when a Pod without a node appears.")));
      this.renderQueues(sch, body);
      return;
    }
    const head = el("p", "sched-head");
    head.append(el("strong", null, interpolate(gettext("Scheduling cycle %(n)s"), { n: cyc.n })), " · ",
      interpolate(gettext("Pod %(pod)s"), { pod: cyc.pod }));
    if (cyc.evaluated != null) {
      head.append(" · ", interpolate(gettext("%(feasible)s of %(evaluated)s nodes passed the filters"),
        { feasible: (cyc.feasible || []).length, evaluated: cyc.evaluated }));
    }
    body.append(head);
    if (state.backend === "api" && !cyc.filter && !cyc.scores) {
      // A real cluster: the cycle itself is inside kube-scheduler; its outcome is what the Events tell.
      body.append(el("p", "sched-real", gettext("On a real cluster the filtering and scoring of each node happen inside kube-scheduler and are not published; what can be seen is its decision: the Scheduled Event with the chosen node, or FailedScheduling with the reasons.")));
    }

    const filters = pluginsOf(cyc.filter);
    const scorePlugins = pluginsOf(cyc.scores);
    const nodes = Object.keys(cyc.filter || cyc.scores || {});
    const table = el("table", "sched-table");
    table.setAttribute("aria-label", gettext("Filter and score per node"));
    const thead = el("thead");
    const groups = el("tr", "groups");
    groups.append(el("th", null, ""));
    if (filters.length) {
      const g = el("th", "grp-filter", gettext("Filter"));
      g.colSpan = filters.length;
      groups.append(g);
    }
    if (scorePlugins.length) {
      const g = el("th", "grp-score", gettext("Score (normalized × weight)"));
      g.colSpan = scorePlugins.length + 1;
      groups.append(g);
    }
    const names = el("tr");
    names.append(el("th", "col-node", gettext("Node")));
    for (const p of filters) names.append(pluginHeader(p));
    for (const p of scorePlugins) names.append(pluginHeader(p));
    if (scorePlugins.length) names.append(el("th", "col-total", gettext("Total")));
    thead.append(groups, names);
    table.append(thead);

    const tbody = el("tbody");
    const feasible = new Set(cyc.feasible || []);
    for (const node of nodes) {
      const tr = el("tr");
      tr.dataset.node = node;
      const chosen = cyc.selected === node;
      tr.dataset.feasible = feasible.has(node) ? "true" : "false";
      if (chosen) tr.classList.add("chosen");
      if (!feasible.has(node)) tr.classList.add("filtered-out");
      const th = el("th", "node-name", node);
      th.scope = "row";
      if (chosen) th.append(" ", el("span", "badge chosen-badge", `★ ${gettext("chosen")}`));
      else if (!feasible.has(node) && cyc.filter) th.append(" ", el("span", "badge out-badge", gettext("filtered out")));
      tr.append(th);
      for (const p of filters) tr.append(filterCell((cyc.filter[node] || {})[p]));
      const scores = (cyc.scores || {})[node];
      for (const p of scorePlugins) {
        const s = scores && scores[p];
        const td = el("td", "s-cell");
        if (s) {
          td.textContent = `${s.normalized} ×${s.weight}`;
          td.title = interpolate(gettext("raw %(raw)s, normalized %(n)s, weight %(w)s"), { raw: s.raw, n: s.normalized, w: s.weight });
        } else {
          td.textContent = "–";
        }
        tr.append(td);
      }
      if (scorePlugins.length) {
        const total = (cyc.totals || {})[node];
        tr.append(el("td", "s-total", total == null ? "–" : String(total)));
      }
      tbody.append(tr);
    }
    table.append(tbody);
    const wrap = el("div", "table-wrap");
    wrap.append(table);
    body.append(wrap);

    if (cyc.omitted) {
      body.append(el("p", "sched-note", interpolate(gettext("%(n)s more nodes were evaluated than are listed here."), { n: cyc.omitted.nodes || 0 })));
    }
    const skipped = [...new Set([
      ...Object.entries(cyc.prefilter || {}).filter(([, c]) => c === "Skip").map(([p]) => p),
      ...Object.entries(cyc.prescore || {}).filter(([, c]) => c === "Skip").map(([p]) => p),
    ])];
    if (skipped.length) {
      body.append(el("p", "sched-note", interpolate(gettext("Skipped for this Pod (nothing for them to check): %(plugins)s"), { plugins: skipped.join(", ") })));
    }
    if (cyc.selected && (cyc.feasible || []).length === 1 && !scorePlugins.length) {
      body.append(el("p", "sched-note", gettext("Only one node passed the filters, so scoring was not needed.")));
    }
    if (cyc.message) {
      const box = el("div", "sched-failed");
      box.setAttribute("role", "status");
      box.append(el("strong", null, "FailedScheduling "), el("code", null, cyc.message));
      body.append(box);
    }
    if (cyc.postfilter) {
      const pf = cyc.postfilter;
      const text = pf.nominated
        ? interpolate(gettext("Preemption: nominated %(node)s, evicting %(victims)s"), { node: pf.nominated, victims: pf.victims.join(", ") || "–" })
        : gettext("Preemption could not make room on any node.");
      body.append(el("p", "sched-note", text));
    }
    if (cyc.bound) {
      body.append(el("p", "sched-note sched-bound", interpolate(gettext("Bound %(pod)s to %(node)s."), { pod: cyc.pod, node: cyc.bound })));
    }
    this.renderQueues(sch, body);
  }

  renderQueues(sch, body) {
    const entries = Object.entries(sch.queues || {});
    const box = el("div", "sched-queues");
    box.append(el("h3", null, gettext("Waiting Pods")));
    if (!entries.length) {
      box.append(el("p", "panel-empty", gettext("None: every Pod seen so far was scheduled or is being scheduled.")));
    } else {
      const ul = el("ul");
      for (const [pod, q] of entries) {
        const li = el("li", null);
        li.dataset.queue = q;
        li.append(el("code", null, pod), " — ", QUEUE_TEXT[q] || q);
        ul.append(li);
      }
      box.append(ul);
    }
    body.append(box);
  }
}
