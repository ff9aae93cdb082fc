// One run's live stream over WebSocket: Kubernetes' list-then-watch, resumed from a sequence number.
//
// The server sends an event alone as {type: "event"} and consecutive ones together as {type: "events"}.
// Invariants: `lastSeq` is the highest seq handed to onEvent (or the snapshot's seq). Every event is handed
// over exactly once and in order: a seq at or below lastSeq is dropped, and a seq above lastSeq + 1 means we
// missed something, so we reconnect and subscribe again with `since` = lastSeq (the server replays the gap,
// or sends a snapshot when its log no longer reaches back that far).

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10000;
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export function socketUrl(path, wsBase = "") {
  if (wsBase) return wsBase.replace(/\/$/, "") + path;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

export class RunStream {
  // handlers: onSnapshot(seq, state), onEvent(event), onRun(run), onError(error), onConnection(state)
  constructor(runId, handlers, { wsBase = "", since = 0 } = {}) {
    this.runId = runId;
    this.h = handlers;
    this.wsBase = wsBase;
    this.lastSeq = since;
    this.ws = null;
    this.closed = false;
    this.finished = false; // terminal run status seen and caught up: no need to reconnect
    this.lastSeqOfRun = null;
    this.backoff = BACKOFF_MIN_MS;
    this.timer = null;
  }

  start() {
    this.connect();
    return this;
  }

  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  connect() {
    if (this.closed) return;
    this.h.onConnection?.("connecting");
    const ws = new WebSocket(socketUrl(`/ws/runs/${this.runId}/`, this.wsBase));
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "subscribe", since: this.lastSeq }));
      this.h.onConnection?.("live");
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      this.backoff = BACKOFF_MIN_MS;
      this.handle(msg);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      if (this.closed) return;
      if (e.code === 4404) { this.h.onConnection?.("gone"); return; } // no such run: retrying cannot help
      if (this.finished) { this.h.onConnection?.("done"); return; }
      this.h.onConnection?.("reconnecting");
      this.retryLater();
    };
  }

  retryLater(delay = this.backoff) {
    clearTimeout(this.timer);
    // Jitter so that a classroom of laptops does not reconnect in lockstep after a server restart.
    this.timer = setTimeout(() => this.connect(), delay * (0.75 + Math.random() * 0.5));
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }

  resubscribe() {
    // Drop this socket (its handlers ignore anything still in flight) and resume from lastSeq.
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    this.retryLater(0);
  }

  // Hand one event over; false when it revealed a gap (we are resubscribing: drop the rest of the frame).
  take(ev) {
    if (ev.seq <= this.lastSeq) return true;
    if (ev.seq !== this.lastSeq + 1) { this.resubscribe(); return false; }
    this.lastSeq = ev.seq;
    this.h.onEvent?.(ev);
    return true;
  }

  handle(msg) {
    switch (msg.type) {
      case "snapshot":
        this.lastSeq = msg.seq;
        this.h.onSnapshot?.(msg.seq, msg.state);
        break;
      case "event":
        if (!this.take(msg.event)) return;
        break;
      case "events": // consecutive events in one frame, oldest first
        for (const ev of msg.events || []) if (!this.take(ev)) return;
        break;
      case "run": {
        const run = msg.run || { id: this.runId, status: msg.status };
        this.h.onRun?.(run);
        if (TERMINAL.has(run.status)) this.lastSeqOfRun = run.last_seq ?? null;
        break;
      }
      case "error":
        this.h.onError?.(msg.error || {});
        break;
      default:
        break;
    }
    if (this.lastSeqOfRun !== null && this.lastSeq >= this.lastSeqOfRun) this.finished = true;
  }
}
