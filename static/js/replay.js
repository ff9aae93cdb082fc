// Replay of a finished run in the browser: the run's events, kept in order, fed again through the page's
// one entry point (so every panel draws them exactly as it did live), with a timeline to scrub and steps
// to move between. Seeking folds the events up to the chosen point into a fresh state; playing feeds them
// at the run's own virtual pace times the replay speed.
//
// Positions count events applied: position p means events[0..p) are in the state (0 = nothing yet).

import { gettext, interpolate } from "./i18n.js";

export const SPEEDS = [0.25, 0.5, 1, 2, 4];
// A long quiet stretch in virtual time (a 300 s toleration, an image pull) is not worth waiting through
// in a replay: any gap between two events lasts at most this long on the wall clock.
const MAX_GAP_S = 1.5;
// Events larger than this are refused on import (a whole-cluster run is ~100 MB of JSON Lines).
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;

// Parse JSON Lines into events; throws {line, message} naming the first bad line.
export function parseJSONL(text) {
  const events = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (!raw) continue;
    let ev;
    try { ev = JSON.parse(raw); } catch {
      throw { line: i + 1, message: gettext("this line is not valid JSON") };
    }
    if (!ev || typeof ev !== "object" || Array.isArray(ev)) throw { line: i + 1, message: gettext("each line must be one event object") };
    if (!Number.isInteger(ev.seq)) throw { line: i + 1, message: gettext("the event has no whole-number “seq”") };
    if (typeof ev.type !== "string" || !ev.type) throw { line: i + 1, message: gettext("the event has no “type”") };
    if (typeof ev.t !== "number") throw { line: i + 1, message: gettext("the event has no time “t”") };
    const want = events.length ? events[events.length - 1].seq + 1 : 1;
    if (ev.seq !== want) {
      throw { line: i + 1, message: interpolate(gettext("expected event %(want)s here, found %(seq)s: the file is incomplete or out of order"), { want, seq: ev.seq }) };
    }
    events.push(ev);
  }
  if (!events.length) throw { line: 0, message: gettext("the file holds no events") };
  return events;
}

export class Replay {
  // hooks: load(position) - show the state after events[0..position) at once (no animation);
  //        feed(ev) - apply and draw one event as it would arrive live; changed() - redraw the replay bar.
  constructor(events, hooks) {
    this.events = events;
    this.hooks = hooks;
    this.pos = 0;
    this.playing = false;
    this.speed = 1;
    this.target = null;      // while "next step" plays: the position to stop at
    this.timer = 0;
    // Where each step starts: the position just after its scenario.step event (so its narration shows).
    this.stepStarts = [];
    events.forEach((ev, i) => { if (ev.type === "scenario.step") this.stepStarts.push({ pos: i + 1, n: ev.data && ev.data.step }); });
  }

  get length() { return this.events.length; }
  get finished() { return this.pos >= this.events.length; }

  // The step whose narration shows at the current position (0 before the first).
  currentStep() {
    let n = 0;
    for (const s of this.stepStarts) if (s.pos <= this.pos) n = s.n;
    return n;
  }

  seek(pos) {
    this.stopTimer();
    this.playing = false;
    this.target = null;
    this.pos = Math.max(0, Math.min(this.events.length, Math.round(pos)));
    this.hooks.load(this.pos);
    this.hooks.changed();
  }

  play() {
    if (this.finished) this.seek(0);
    this.playing = true;
    this.target = null;
    this.schedule();
    this.hooks.changed();
  }

  pause() {
    this.stopTimer();
    this.playing = false;
    this.target = null;
    this.hooks.changed();
  }

  toggle() { if (this.playing) this.pause(); else this.play(); }

  // Next: play to the start of the next step and hold there, as step mode does live. Asked again while it
  // plays, it jumps to that point at once.
  next() {
    const after = this.stepStarts.find((s) => s.pos > this.pos);
    const target = after ? after.pos : this.events.length;
    if (this.playing && this.target != null) { this.seek(this.target); return; }
    if (target <= this.pos) return;
    this.playing = true;
    this.target = target;
    this.schedule();
    this.hooks.changed();
  }

  // Back: to the start of the current step, or of the one before when already there.
  back() {
    const before = this.stepStarts.filter((s) => s.pos < this.pos);
    this.seek(before.length ? before[before.length - 1].pos : 0);
  }

  faster() { this.setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(this.speed) + 1)]); }
  slower() { this.setSpeed(SPEEDS[Math.max(0, SPEEDS.indexOf(this.speed) - 1)]); }

  setSpeed(s) {
    if (!SPEEDS.includes(s)) return;
    this.speed = s;
    if (this.playing) { this.stopTimer(); this.schedule(); }
    this.hooks.changed();
  }

  stopTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = 0;
  }

  // Feed the next event(s) when due: everything at the same virtual time goes out together.
  schedule() {
    this.stopTimer();
    if (!this.playing) return;
    const stop = this.target != null ? this.target : this.events.length;
    if (this.pos >= stop) {
      this.playing = false;
      this.target = null;
      this.hooks.changed();
      return;
    }
    const prev = this.pos > 0 ? this.events[this.pos - 1].t : this.events[0].t;
    const gap = Math.min(MAX_GAP_S, Math.max(0, this.events[this.pos].t - prev)) / this.speed;
    this.timer = setTimeout(() => {
      this.timer = 0;
      const t = this.events[this.pos].t;
      let fed = 0;
      // Everything due at this instant, but at most a frame's worth, so that a burst still animates.
      while (this.pos < stop && this.events[this.pos].t <= t && fed < 200) {
        this.hooks.feed(this.events[this.pos]);
        this.pos += 1;
        fed += 1;
      }
      this.hooks.changed();
      this.schedule();
    }, gap * 1000);
  }

  stop() {
    this.stopTimer();
    this.playing = false;
  }
}
