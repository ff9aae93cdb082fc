// The classroom channel (/ws/classroom/<room>/): the server announces every run that is created or changes
// status. Students' pages switch to the newest run on their own, so nobody has to reload when the
// instructor starts a demo. The socket is only a doorbell: after a reconnect we ask the HTTP API for the
// newest run, in case an announcement fell into the gap. It also relays where the presenter points the class
// (`focus`: the panel they opened), for the pages that follow them.

import { socketUrl } from "./live.js";

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;

export function followClassroom(room, onRun, { wsBase = "", onFocus = () => {} } = {}) {
  let backoff = BACKOFF_MIN_MS;
  let opened = false;

  async function catchUp() {
    try {
      const r = await fetch("/api/runs?limit=1", { headers: { Accept: "application/json" } });
      if (!r.ok) return;
      const body = await r.json();
      if (body.runs && body.runs.length) onRun(body.runs[0]);
      const f = await fetch("/api/classroom/focus", { headers: { Accept: "application/json" } });
      if (f.ok) {
        const { focus } = await f.json();
        if (focus) onFocus(focus);
      }
    } catch {
      // The socket retries; nothing else to do.
    }
  }

  function connect() {
    const ws = new WebSocket(socketUrl(`/ws/classroom/${room}/`, wsBase));
    ws.onopen = () => {
      if (opened) catchUp();
      opened = true;
      backoff = BACKOFF_MIN_MS;
    };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.type === "run" && msg.run) onRun(msg.run);
      else if (msg.type === "focus" && msg.focus) onFocus(msg.focus, true);
    };
    ws.onclose = () => {
      setTimeout(connect, backoff * (0.75 + Math.random() * 0.5));
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    };
  }

  connect();
}
