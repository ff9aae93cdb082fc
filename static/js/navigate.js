// Navigation between the architecture diagram and the component panels: a click (or Enter / Space on a
// focused box) on a component opens its panel - scrolled into view and outlined for a moment - and a
// switch lays the panels out two by two, for a projector.

import { gettext, interpolate } from "./i18n.js";

export const PANEL_OF = {
  kubectl: "terminals-panel",
  apiserver: "apiserver-panel",
  "load-balancer": "apiserver-panel",
  etcd: "etcd-panel",
  scheduler: "scheduler-panel",
  "controller-manager": "controllers-panel",
  kubelet: "terminals-panel",
  "container-runtime": "terminals-panel",
};

// `origin` says who asked: "user" (a click or a key on this page) or "follow" (the presenter, relayed); the
// page hears every opening as a "k8s:panel" event (the presenter's page tells the class).
export function openPanel(id, origin = "user") {
  const panel = document.getElementById(id);
  if (!panel || panel.hidden) return false;
  panel.scrollIntoView({ block: "start" });   // at once: a smooth scroll can miss a panel whose place shifts meanwhile
  panel.classList.remove("spotlight");
  void panel.offsetWidth; // restart the outline animation
  panel.classList.add("spotlight");
  const heading = panel.querySelector("h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  document.dispatchEvent(new CustomEvent("k8s:panel", { detail: { id, origin } }));
  return true;
}

export function wireNavigation(svg, layout, toggle) {
  // Make each drawn component that has a panel reachable by keyboard and named for screen readers.
  const mark = () => {
    for (const g of svg.querySelectorAll(".comp[data-component]")) {
      const id = PANEL_OF[g.dataset.component];
      if (!id || g.dataset.panel) continue;
      g.dataset.panel = id;
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      const name = g.querySelector(".comp-name");
      g.setAttribute("aria-label", interpolate(gettext("Open the panel of %(name)s"), { name: name ? name.textContent : g.dataset.component }));
    }
  };
  mark();
  const activate = (e) => {
    const g = e.target.closest(".comp[data-panel]");
    if (!g) return;
    e.preventDefault();
    openPanel(g.dataset.panel);
  };
  svg.addEventListener("click", activate);
  svg.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") activate(e); });
  if (toggle && layout) {
    const set = (on) => {
      layout.classList.toggle("panels-side-by-side", on);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      try { localStorage.setItem("k8sdash.panels", on ? "side" : "stack"); } catch { /* private mode */ }
    };
    let saved = null;
    try { saved = localStorage.getItem("k8sdash.panels"); } catch { saved = null; }
    set(saved === "side");
    toggle.addEventListener("click", () => set(!layout.classList.contains("panels-side-by-side")));
  }
  return mark;
}
