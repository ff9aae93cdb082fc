// The etcd panel: the members (role, term, commit index; the leader highlighted, a stopped member greyed
// out), quorum, the /registry key tree with create/mod revision and version (the key just written
// flashes), the watch stream, and - on a click - a key's value and its history by revision, read from the
// run's own event log. Drawn from state.etcd, so it is the same live, after a snapshot and on a finished run.

import { gettext, interpolate } from "./i18n.js";
import { el } from "./dom.js";

const ROLE = {
  leader: { icon: "★", text: gettext("leader") },
  follower: { icon: "●", text: gettext("follower") },
  candidate: { icon: "?", text: gettext("candidate") },
  "pre-candidate": { icon: "?", text: gettext("pre-candidate") },
  stopped: { icon: "■", text: gettext("stopped") },
};
const KEYS_SHOWN = 200; // per resource: a 5,000-node run has 5,000 node keys; the rest are counted
const TREE_EVERY_MS = 500;

// "/registry/pods/default/nginx" -> ["pods", "default/nginx"]
function splitKey(key) {
  const rest = key.startsWith("/registry/") ? key.slice("/registry/".length) : key;
  const i = rest.indexOf("/");
  return i < 0 ? [rest, ""] : [rest.slice(0, i), rest.slice(i + 1)];
}

export class EtcdPanel {
  constructor(root, runId) {
    this.root = root;
    this.runId = runId; // () => the current run's id, for the key history
    this.members = root.querySelector(".etcd-members");
    this.tree = root.querySelector(".etcd-tree");
    this.watch = root.querySelector(".etcd-watch");
    this.detail = root.querySelector(".etcd-detail");
    this.open = new Set(["pods"]);
    this.selected = null;
    this.reset();
    this.tree.addEventListener("click", (e) => {
      const row = e.target.closest("[data-key]");
      if (row) this.show(row.dataset.key);
    });
    this.tree.addEventListener("keydown", (e) => {
      const row = e.target.closest("[data-key]");
      if (row && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); this.show(row.dataset.key); }
    });
    this.tree.addEventListener("toggle", (e) => {
      const d = e.target;
      if (d.dataset && d.dataset.resource) (d.open ? this.open.add(d.dataset.resource) : this.open.delete(d.dataset.resource));
    }, true);
  }

  reset() {
    if (this.treeTimer) clearTimeout(this.treeTimer);
    this.treeTimer = null;
    this.sig = { members: "", tree: "", watch: "" };
    this.selected = null;
    this.detail.hidden = true;
    this.detail.textContent = "";
  }

  render(state) {
    const etcd = state.etcd;
    const m = JSON.stringify([etcd.members, etcd.status, etcd.leader, etcd.term, etcd.quorum, etcd.revision, etcd.source, etcd.source_note]);
    if (m !== this.sig.members) { this.sig.members = m; this.renderMembers(etcd); }
    const t = `${etcd.revision}|${etcd.last ? etcd.last.revision : 0}`;
    if (t !== this.sig.tree) this.treeSoon(etcd, t);
    const w = etcd.watch.length ? `${etcd.watch.length}|${etcd.watch[etcd.watch.length - 1].t}|${etcd.watch[etcd.watch.length - 1].key}` : "";
    if (w !== this.sig.watch) { this.sig.watch = w; this.renderWatch(etcd); }
  }

  // The key tree sorts every key: with thousands of keys and a write every millisecond, redraw it at most
  // twice a second (the latest state wins), so a burst of events cannot stall the page.
  treeSoon(etcd, sig) {
    this.treeNext = { etcd, sig };
    if (this.treeTimer) return;
    const wait = Math.max(0, (this.treeAt || 0) + TREE_EVERY_MS - performance.now());
    const draw = () => {
      this.treeTimer = null;
      this.treeAt = performance.now();
      const { etcd: e, sig: g } = this.treeNext;
      this.sig.tree = g;
      this.renderTree(e);
    };
    if (wait === 0) draw();
    else this.treeTimer = setTimeout(draw, wait);
  }

  renderMembers(etcd) {
    const box = this.members;
    box.textContent = "";
    const head = el("p", "etcd-head");
    // term null: a real cluster (api backend), whose Raft state the Kubernetes API does not show.
    const raftHidden = etcd.term === null;
    head.append(interpolate(gettext("revision %(rev)s"), { rev: etcd.revision }), " · ",
      raftHidden ? gettext("term: not visible") : interpolate(gettext("term %(term)s"), { term: etcd.term }), " · ",
      etcd.leader ? interpolate(gettext("leader: %(name)s"), { name: etcd.leader }) : gettext("no leader"));
    box.append(head);
    if (raftHidden && etcd.source === "etcdctl") {
      box.append(el("p", "etcd-real", gettext("A real cluster: each write's key, revision and version come from etcd itself, read with etcdctl watch in the etcd Pod, as in the lesson. Raft (terms, votes, log) stays inside etcd and is not shown.")));
    } else if (raftHidden) {
      box.append(el("p", "etcd-real", gettext("A real cluster: revisions are the objects' resourceVersions as the API server's watch reports them. Raft (terms, votes, log) is inside etcd and is not shown through the Kubernetes API.")));
      if (etcd.source_note) {
        box.append(el("p", "etcd-real etcd-real-why", interpolate(gettext("etcdctl in the etcd Pod could not be used: %(reason)s"), { reason: etcd.source_note })));
      }
    }
    if (!etcd.quorum) {
      const q = el("p", "etcd-noquorum", `⚠ ${gettext("No quorum: fewer than a majority of the members are running, so no write can commit.")}`);
      q.setAttribute("role", "status");
      box.append(q);
    }
    const list = el("ul", "etcd-member-list");
    for (const name of etcd.members) {
      const s = etcd.status[name] || { role: etcd.leader === name ? "leader" : "follower", term: etcd.term, commit: null, running: true };
      const role = s.running ? s.role : "stopped";
      const r = ROLE[role] || { icon: "●", text: role };
      const li = el("li", `etcd-member role-${role}`);
      li.dataset.member = name;
      li.dataset.role = role;
      li.append(el("span", "m-name", name), el("span", "m-role", `${r.icon} ${r.text}`),
        el("span", "m-kv", s.term === null ? "" : interpolate(gettext("term %(term)s"), { term: s.term })));
      if (role === "leader" && s.commit) li.append(el("span", "m-kv", interpolate(gettext("commit index %(i)s"), { i: s.commit })));
      list.append(li);
    }
    box.append(list);
  }

  renderTree(etcd) {
    const groups = new Map();
    for (const key of Object.keys(etcd.keys).sort()) {
      const [res, rest] = splitKey(key);
      if (!groups.has(res)) groups.set(res, []);
      groups.get(res).push([key, rest]);
    }
    const last = etcd.last;
    if (last) this.open.add(splitKey(last.key)[0]);
    const box = this.tree;
    box.textContent = "";
    box.append(el("div", "etcd-tree-root", "/registry/"));
    for (const [res, keys] of groups) {
      const d = el("details", "etcd-group");
      d.dataset.resource = res;
      d.open = this.open.has(res);
      const sum = el("summary", null);
      sum.append(el("span", "g-name", `${res}/`), el("span", "g-count", String(keys.length)));
      d.append(sum);
      const table = el("table", "etcd-keys");
      const head = el("tr");
      for (const h of [gettext("key"), "create_revision", "mod_revision", "version"]) head.append(el("th", null, h));
      const thead = el("thead");
      thead.append(head);
      table.append(thead);
      const tbody = el("tbody");
      for (const [key, rest] of keys.slice(0, KEYS_SHOWN)) {
        const k = etcd.keys[key];
        const tr = el("tr", "etcd-key");
        tr.dataset.key = key;
        tr.tabIndex = 0;
        if (last && last.key === key && last.op === "PUT") tr.classList.add("flash");
        if (this.selected === key) tr.classList.add("selected");
        tr.append(el("td", "k-name", rest || key), el("td", "num", String(k.create_revision)),
          el("td", "num", String(k.mod_revision)), el("td", "num", String(k.version)));
        tbody.append(tr);
      }
      table.append(tbody);
      d.append(table);
      if (keys.length > KEYS_SHOWN) d.append(el("p", "etcd-more", interpolate(gettext("… and %(n)s more keys"), { n: keys.length - KEYS_SHOWN })));
      box.append(d);
    }
    if (last && last.op === "DELETE") {
      box.append(el("p", "etcd-deleted", interpolate(gettext("Deleted at revision %(rev)s: %(key)s"), { rev: last.revision, key: last.key })));
    }
  }

  renderWatch(etcd) {
    const ol = this.watch;
    ol.textContent = "";
    if (!etcd.watch.length) {
      ol.append(el("li", "panel-empty", gettext("No watch event yet.")));
      return;
    }
    for (const w of etcd.watch.slice().reverse()) {
      const li = el("li", `w-${String(w.event).toLowerCase()}`);
      li.append(el("span", "w-t", `${Number(w.t).toFixed(3)}s`), el("span", "w-ev", w.event),
        el("code", "w-key", w.key), el("span", "w-to", `→ ${w.to || "?"}`), el("span", "w-rv", `rv ${w.rv}`));
      ol.append(li);
    }
  }

  async show(key) {
    this.selected = key;
    for (const tr of this.tree.querySelectorAll("tr.selected")) tr.classList.remove("selected");
    for (const tr of this.tree.querySelectorAll("tr[data-key]")) if (tr.dataset.key === key) tr.classList.add("selected");
    const box = this.detail;
    box.hidden = false;
    box.textContent = "";
    box.dataset.key = key;
    box.append(el("h3", null, key), el("p", "panel-empty", gettext("Reading this key's history from the run's events…")));
    const runId = this.runId();
    let history = [];
    try {
      const r = await fetch(`/api/runs/${runId}/events?since=0`, { headers: { Accept: "application/jsonl" } });
      if (r.ok) {
        for (const line of (await r.text()).split("\n")) {
          if (!line) continue;
          const ev = JSON.parse(line);
          if ((ev.type === "etcd.put" || ev.type === "etcd.delete") && ev.data && ev.data.key === key) history.push(ev);
        }
      }
    } catch {
      history = [];
    }
    if (this.selected !== key) return;
    box.textContent = "";
    box.append(el("h3", null, key));
    if (!history.length) {
      box.append(el("p", "panel-empty", gettext("This key was written before the run started; its value is not in the run's events.")));
      return;
    }
    const list = el("ol", "etcd-history");
    history.forEach((ev, i) => {
      const d = ev.data;
      const li = el("li");
      li.dataset.revision = String(d.mod_revision ?? d.revision);
      const title = ev.type === "etcd.put"
        ? interpolate(gettext("revision %(rev)s · version %(v)s · PUT"), { rev: d.mod_revision, v: d.version })
        : interpolate(gettext("revision %(rev)s · DELETE"), { rev: d.revision });
      const det = el("details");
      det.open = i === history.length - 1;
      det.append(el("summary", null, title));
      if (d.value !== undefined) det.append(el("pre", "etcd-value", JSON.stringify(d.value, null, 2)));
      li.append(det);
      list.append(li);
    });
    box.append(list);
  }
}
