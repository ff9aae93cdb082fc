// The scenario's steps with the current one marked and finished ones checked, and the narration of
// the current step (and, once the run has finished, its check questions). Titles, narration and questions
// come from the scenario catalog in the page's language.

import { gettext, interpolate, pick } from "./i18n.js";

export class StepsView {
  constructor(list, narration) {
    this.list = list;
    this.narration = narration;
    this.key = null;
  }

  render(state, scenario) {
    const steps = scenario ? scenario.steps || [] : [];
    const key = JSON.stringify([scenario && scenario.id, state.step, state.steps_done, state.status]);
    if (key === this.key) return;
    this.key = key;

    const done = new Set(state.steps_done);
    this.list.textContent = "";
    for (const s of steps) {
      const li = document.createElement("li");
      const st = done.has(s.n) ? "done" : s.n === state.step ? "current" : "todo";
      li.dataset.step = s.n;
      li.dataset.state = st;
      if (st === "current") li.setAttribute("aria-current", "step");
      const badge = document.createElement("span");
      badge.className = "step-badge";
      badge.textContent = st === "done" ? "✓" : String(s.n);
      const title = document.createElement("span");
      title.className = "step-title";
      title.textContent = pick(s.title);
      li.append(badge, title);
      if ((state.hidden || {})[String(s.n)]) {
        li.dataset.hidden = "true";
        li.title = gettext("Not visible on a real cluster");
      }
      this.list.appendChild(li);
    }

    const current = steps.find((s) => s.n === state.step);
    const heading = this.narration.querySelector(".narration-title");
    const body = this.narration.querySelector(".narration-body");
    if (current) {
      heading.textContent = interpolate(gettext("Step %(n)s: %(title)s"), { n: current.n, title: pick(current.title) });
      body.textContent = pick(current.narration);
      const hidden = (state.hidden || {})[String(current.n)];
      if (hidden) {
        // A real cluster (api backend): what this step is made of happens inside a component.
        const note = document.createElement("span");
        note.className = "narration-hidden";
        note.textContent = " " + interpolate(gettext("On a real cluster this step happens inside %(component)s and cannot be watched from outside; the dashboard shows what the cluster reports before and after it."), { component: hidden });
        body.append(note);
      }
    } else if (scenario) {
      heading.textContent = pick(scenario.title);
      body.textContent = pick(scenario.description);
    } else {
      heading.textContent = gettext("No run yet");
      body.textContent = gettext("When the instructor starts a scenario, its steps appear here.");
    }
    this.renderQuestions(state.status === "succeeded" && scenario ? scenario.questions || [] : []);
  }

  // Once the run has finished, the scenario's check questions, for the class to answer.
  renderQuestions(questions) {
    let box = this.narration.querySelector(".check-questions");
    if (!questions.length) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.className = "check-questions";
      this.narration.append(box);
    }
    box.textContent = "";
    const h = document.createElement("h3");
    h.textContent = gettext("Check your understanding");
    const ol = document.createElement("ol");
    for (const q of questions) {
      const li = document.createElement("li");
      li.textContent = pick(q);
      ol.append(li);
    }
    box.append(h, ol);
  }
}
