// The event log: one line per event (virtual time, who acted, what it means, the English summary), newest
// at the bottom, at most MAX_LINES lines so a long run cannot slow the page down.

import { gettext, interpolate, lang } from "./i18n.js";
import { eventMeaning } from "./eventtext.js";
import { Follower } from "./dom.js";

export const MAX_LINES = 300;

const SOURCE_TEXT = {
  watch: () => gettext("Seen in the API server's watch; the etcd key and revision follow from the object (resourceVersion is etcd's mod_revision)."),
  event: () => gettext("Reported by the component as a Kubernetes Event; the step itself happened inside the component."),
  client: () => gettext("The dashboard's own request to the real API server, and its answer."),
  etcdctl: () => gettext("Reported by etcd itself: etcdctl watch in the etcd Pod saw this write (its key, revisions and version); the object shown is the one the API server's watch delivered."),
  audit: () => gettext("Read from the API server's audit log (on the control-plane node, through its kubelet): what happened to a request inside the API server, or a request of the control plane or a kubelet."),
};

function line(ev) {
  const li = document.createElement("li");
  li.dataset.seq = ev.seq;
  li.dataset.type = ev.type;
  li.className = `log-line comp-${ev.component}`;
  const t = document.createElement("span");
  t.className = "log-t";
  t.textContent = `${Number(ev.t).toFixed(3)}s`;
  const who = document.createElement("span");
  who.className = "log-who";
  who.textContent = ev.instance && ev.instance !== ev.component ? `${ev.component}/${ev.instance}` : ev.component;
  const what = document.createElement("span");
  what.className = "log-what";
  what.textContent = eventMeaning(ev.type, lang);
  const summary = document.createElement("span");
  summary.className = "log-summary";
  summary.lang = "en";
  summary.textContent = ev.summary || "";
  li.append(t, who, what, summary);
  const source = ev.data && ev.data.source;
  if (source) {
    // An `api` run: this came from the real cluster (a watch, an Event, or the dashboard's own request).
    li.classList.add("log-real");
    const badge = document.createElement("span");
    badge.className = `log-source source-${source}`;
    badge.textContent = gettext("real cluster");
    badge.title = SOURCE_TEXT[source] ? SOURCE_TEXT[source]() : source;
    what.append(" ", badge);
  }
  return li;
}

export class LogView {
  constructor(list, scroller) {
    this.list = list;
    this.scroller = scroller;
    this.follower = new Follower(scroller, 40);
  }

  clear() {
    this.list.textContent = "";
  }

  // Events fetched over HTTP for a viewer who joined late or resumed from a snapshot: they go in seq order
  // among the lines already shown (live events may have arrived while the fetch was under way). When the
  // history does not reach back to what we had, a note marks the hole.
  insertHistory(events, complete, upTo) {
    const frag = document.createDocumentFragment();
    if (!complete) {
      const li = document.createElement("li");
      li.className = "log-note";
      li.textContent = interpolate(gettext("Joined at event %(seq)s: the picture above was restored from a snapshot."), { seq: upTo });
      frag.appendChild(li);
    }
    for (const ev of events) frag.appendChild(line(ev));
    const after = [...this.list.querySelectorAll("li[data-seq]")].find((li) => Number(li.dataset.seq) > upTo);
    this.list.insertBefore(frag, after || null);
    this.trim();
    this.follower.atEnd = true;   // a rare event: scroll at once rather than on the next frame
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  append(events) {
    if (!events.length) return;
    const frag = document.createDocumentFragment();
    for (const ev of events.slice(-MAX_LINES)) frag.appendChild(line(ev));
    this.list.appendChild(frag);
    this.trim();
    this.follower.follow();
  }

  trim() {
    while (this.list.childElementCount > MAX_LINES) this.list.firstElementChild.remove();
  }
}
