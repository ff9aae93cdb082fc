// Presenter mode and the keyboard. Presenter mode is the page for a projector: full width, large type, the
// current step's narration in big letters and a line of key hints. The keys work in and out of presenter
// mode (presentation clickers send Space, →, PageDown, PageUp and "."), and do what makes sense for what
// is on screen: the live run (only the instructor moves it; the server checks again) or a replay (anyone's,
// in their own browser).

import { gettext } from "./i18n.js";

// Keys 1-9 show these sections of the page, in this order (the server knows the same list).
export const PANEL_KEYS = ["arch-card", "apiserver-panel", "etcd-panel", "scheduler-panel", "controllers-panel",
  "sequence-panel", "terminals-panel", "cluster-map", "log-card"];

const NEXT = new Set([" ", "ArrowRight", "PageDown", "."]);
const BACK = new Set(["ArrowLeft", "PageUp"]);

// actions: { next(), back(), pause(), faster(), slower(), panel(id), analogy(), toast(text) }
export class Presenter {
  constructor(actions) {
    this.actions = actions;
    this.on = false;
    this.toggleButton = document.getElementById("presenter-toggle");
    this.hud = document.getElementById("presenter-hud");
    this.help = document.getElementById("keys-help");
    this.toggleButton.addEventListener("click", () => this.set(!this.on));
    document.getElementById("keys-toggle").addEventListener("click", () => this.showHelp());
    document.addEventListener("keydown", (e) => this.key(e));
    let saved = null;
    try { saved = sessionStorage.getItem("k8sdash.presenter"); } catch { saved = null; }
    if (saved === "on" || new URLSearchParams(location.search).get("present") === "1") this.set(true);
  }

  set(on) {
    this.on = on;
    document.body.classList.toggle("presenter", on);
    this.toggleButton.setAttribute("aria-pressed", on ? "true" : "false");
    this.hud.hidden = !on;
    try { sessionStorage.setItem("k8sdash.presenter", on ? "on" : "off"); } catch { /* private mode */ }
    if (!on && document.fullscreenElement) document.exitFullscreen().catch(() => {});
  }

  showHelp() {
    if (this.help.open) this.help.close();
    else this.help.showModal();
  }

  fullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
      return;
    }
    if (!this.on) this.set(true);
    const req = document.documentElement.requestFullscreen;
    if (!req) { this.actions.toast(gettext("This browser cannot go full screen.")); return; }
    document.documentElement.requestFullscreen().catch(() => this.actions.toast(gettext("The browser refused full screen.")));
  }

  key(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    // Typing in a form field, or a key meant for a focused control (a select, the timeline, a button
    // activated by Space), is not a presenter command.
    if (t && t.closest && t.closest("input, select, textarea, [contenteditable]")) return;
    if (t && t.closest && t.closest("button, a, [role=button], summary, canvas") && (e.key === " " || e.key === "Enter")) return;
    if (this.help.open && e.key !== "?") return;   // the dialog handles Esc itself
    const k = e.key;
    let handled = true;
    if (NEXT.has(k)) this.actions.next();
    else if (BACK.has(k)) this.actions.back();
    else if (k === "P" && e.shiftKey) this.set(!this.on);
    else if (k === "p" || k === "P") this.actions.pause();
    else if (k === "+" || k === "=") this.actions.faster();
    else if (k === "-" || k === "_" || k === "−") this.actions.slower();
    else if (k === "f" || k === "F") this.fullscreen();
    else if (k === "a" || k === "A") this.actions.analogy();
    else if (k === "?") this.showHelp();
    else if (k === "Escape" && this.on) this.set(false);
    else if (/^[1-9]$/.test(k)) this.actions.panel(PANEL_KEYS[Number(k) - 1]);
    else handled = false;
    if (handled) e.preventDefault();
  }

  // The heads-up line of presenter mode: the step and what the run is doing.
  renderHud(stepText, stateText) {
    if (!this.on) return;
    const a = this.hud.querySelector(".hud-step"), b = this.hud.querySelector(".hud-state");
    if (a.textContent !== stepText) a.textContent = stepText;
    if (b.textContent !== stateText) b.textContent = stateText;
  }
}
