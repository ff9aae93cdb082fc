// The instructor's Run panel and run controls. Only rendered for instructors (the template decides, from
// the server's is_instructor); the server checks the permission again on every request.

import { gettext, interpolate, pick } from "./i18n.js";

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

// The server's own messages for the run form, in the page's language (the API speaks English, as
// Kubernetes does; messages quoted from Kubernetes - a manifest's field errors - stay as they are).
const MESSAGES = [
  [/^must be between (-?\d+) and (-?\d+)$/, (m) => interpolate(gettext("must be between %(min)s and %(max)s"), { min: m[1], max: m[2] })],
  [/^must be an integer$/, () => gettext("must be a whole number")],
  [/^must be true or false$/, () => gettext("must be true or false")],
  [/^must be one of: (.*)$/, (m) => interpolate(gettext("must be one of: %(list)s"), { list: m[1] })],
  [/^must be at most (\d+) characters$/, (m) => interpolate(gettext("must be at most %(n)s characters"), { n: m[1] })],
  [/^must be at most (\d+) on this installation \((\w+)\)$/, (m) => interpolate(gettext("must be at most %(n)s on this installation (setting %(setting)s)"), { n: m[1], setting: m[2] })],
  [/^must be at most 110 x nodes \((\d+) for (\d+) nodes\)/, (m) => interpolate(gettext("at most 110 Pods per node: %(max)s for %(nodes)s nodes"), { max: m[1], nodes: m[2] })],
  [/^you already have (\d+) run\(s\) in progress \(at most (\d+)/, (m) => interpolate(gettext("You already have %(n)s runs in progress (at most %(max)s). Cancel one or let it finish first."), { n: m[1], max: m[2] })],
  [/^the run has already \w+$/, () => gettext("This run has already finished.")],
];

export function localize(message) {
  for (const [re, fmt] of MESSAGES) {
    const m = re.exec(message);
    if (m) return fmt(m);
  }
  return message;
}

// POST JSON; resolves to the parsed body, or throws {status, field, message}.
export async function postJSON(url, body) {
  let r;
  try {
    r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
  } catch {
    throw { status: 0, field: null, message: gettext("The server cannot be reached. Check the connection and try again.") };
  }
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  if (!r.ok) {
    const err = (data && data.error) || {};
    let message = typeof err === "string" ? err : err.message;
    if (!message) {
      if (r.status === 401 || r.status === 403) message = gettext("Only the instructor can do this. Log in as the instructor.");
      else if (r.status === 409) message = gettext("This run has already finished.");
      else message = interpolate(gettext("The server answered with status %(status)s."), { status: r.status });
    }
    throw { status: r.status, field: err.field || null, message: localize(message) };
  }
  return data;
}

function paramInput(p) {
  const id = `param-${p.name}`;
  const wrap = document.createElement("div");
  wrap.className = "field";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = pick(p.label) || p.name;
  let input;
  if (p.type === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = Boolean(p.default);
    wrap.classList.add("field-check");
  } else if (p.type === "str" && p.multiline) {
    // Long text (manifests): a text area, and a file to load into it.
    input = document.createElement("textarea");
    input.rows = 12;
    input.spellcheck = false;
    input.autocomplete = "off";
    if (p.max_length) input.maxLength = p.max_length;
    if (p.default != null) input.value = p.default;
    wrap.classList.add("field-wide");
    const file = document.createElement("input");
    file.type = "file";
    file.accept = ".yaml,.yml,.json,text/yaml,application/json";
    file.setAttribute("aria-label", interpolate(gettext("Load “%(name)s” from a file"), { name: pick(p.label) || p.name }));
    file.addEventListener("change", async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      if (p.max_length && f.size > p.max_length * 4) {
        file.value = "";
        input.value = "";
        input.setAttribute("aria-invalid", "true");
        input.placeholder = interpolate(gettext("%(file)s is too large (at most %(n)s characters)."), { file: f.name, n: p.max_length });
        return;
      }
      input.value = await f.text();
      file.value = "";
    });
    input.id = id;
    input.name = `params.${p.name}`;
    input.dataset.param = p.name;
    input.dataset.type = p.type;
    wrap.append(label, input, file);
    return wrap;
  } else if (p.type === "str" && Array.isArray(p.choices)) {
    input = document.createElement("select");
    for (const c of p.choices) {
      const o = document.createElement("option");
      o.value = c;
      o.textContent = c;
      if (c === p.default) o.selected = true;
      input.appendChild(o);
    }
  } else {
    input = document.createElement("input");
    if (p.type === "int") {
      input.type = "number";
      input.step = "1";
      if (p.min != null) input.min = p.min;
      if (p.max != null) input.max = p.max;
    } else {
      input.type = "text";
      if (p.max_length) input.maxLength = p.max_length;
      input.spellcheck = false;
      input.autocomplete = "off";
    }
    if (p.default != null) input.value = p.default;
  }
  input.id = id;
  input.name = `params.${p.name}`;
  input.dataset.param = p.name;
  input.dataset.type = p.type;
  wrap.append(label, input);
  return wrap;
}

function readParam(input) {
  if (input.dataset.type === "bool") return input.checked;
  if (input.dataset.type === "int") {
    const n = Number(input.value);
    // Send what was typed when it is not a whole number; the server names the field in its 400.
    return input.value.trim() !== "" && Number.isInteger(n) ? n : input.value;
  }
  return input.value;
}

export class Controls {
  // onStarted(run): called with the new run's JSON after a 201.
  constructor(panel, scenarios, { onStarted }) {
    this.panel = panel;
    this.scenarios = scenarios;
    this.onStarted = onStarted;
    this.form = panel.querySelector("#run-form");
    this.select = panel.querySelector("#run-scenario");
    this.paramsBox = panel.querySelector("#run-params");
    this.errorBox = panel.querySelector("#run-error");
    this.buttons = [...panel.querySelectorAll("button[data-action]")];
    this.run = null;

    for (const s of scenarios) {
      const o = document.createElement("option");
      o.value = s.id;
      o.textContent = pick(s.title);
      if (!(s.backends || ["sim"]).includes("sim")) o.disabled = true;
      this.select.appendChild(o);
    }
    this.backend = panel.querySelector("#run-backend");
    this.backendNote = panel.querySelector("#run-backend-note");
    this.select.addEventListener("change", () => { this.renderParams(); this.renderBackend(); });
    this.backend.addEventListener("change", () => this.renderBackend());
    this.renderParams();
    this.renderBackend();
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.start(); });
    for (const b of this.buttons) b.addEventListener("click", () => this.control(b.dataset.action));
    this.setRun(null);
  }

  renderParams() {
    const s = this.scenarios.find((x) => x.id === this.select.value);
    this.paramsBox.textContent = "";
    for (const p of (s && s.params) || []) this.paramsBox.appendChild(paramInput(p));
  }

  // The real cluster option only for scenarios that can run there; the note says why not, or what to expect.
  renderBackend() {
    const s = this.scenarios.find((x) => x.id === this.select.value);
    const canApi = Boolean(s && (s.backends || []).includes("api"));
    const api = this.backend.querySelector('option[value="api"]');
    api.disabled = !canApi;
    if (!canApi && this.backend.value === "api") this.backend.value = "sim";
    const note = this.backendNote;
    if (!canApi) {
      note.textContent = gettext("This scenario runs only on the simulator: it needs what a real cluster does not let us do or see (Raft inside etcd, the scheduler's per-node scores, stopping components).");
    } else if (this.backend.value === "api") {
      note.textContent = gettext("Runs for real in a namespace of its own, deleted afterwards. Events marked “real cluster” come from its API server; steps inside the components are marked as not visible. Speed does not apply.");
      if (s.api_pauses_node) {
        note.textContent += " " + gettext("The failing node is a kind node container that the dashboard's Celery worker pauses with docker pause and unpauses at the end: this needs a kind cluster and Docker on that worker's machine. The wait is real: about a minute before the node is marked, then the Pods' toleration.");
      }
    } else {
      note.textContent = "";
    }
    note.hidden = !note.textContent;
  }

  showError(err) {
    for (const el of this.form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    if (!err) { this.errorBox.hidden = true; this.errorBox.textContent = ""; return; }
    let where = "";
    if (err.field) {
      const input = this.form.querySelector(`[name="${CSS.escape(err.field)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const label = this.form.querySelector(`label[for="${input.id}"]`);
        where = label ? label.textContent : err.field;
      } else {
        where = err.field;
      }
    }
    this.errorBox.textContent = where
      ? interpolate(gettext("Problem with “%(field)s”: %(message)s"), { field: where, message: err.message })
      : err.message;
    this.errorBox.hidden = false;
  }

  async start() {
    const params = {};
    for (const input of this.paramsBox.querySelectorAll("[data-param]")) params[input.dataset.param] = readParam(input);
    const body = {
      scenario: this.select.value,
      backend: this.backend.value,
      params,
      speed: this.form.elements.speed.value,
      step_mode: this.form.elements.step_mode.checked,
    };
    const submit = this.form.querySelector("button[type=submit]");
    submit.disabled = true;
    this.showError(null);
    try {
      const run = await postJSON("/api/runs", body);
      this.onStarted(run);
    } catch (err) {
      this.showError(err);
    } finally {
      submit.disabled = false;
    }
  }

  async control(action) {
    if (!this.run) return;
    this.showError(null);
    const body = { action };
    try {
      await postJSON(`/api/runs/${this.run.id}/control`, body);
    } catch (err) {
      this.showError(err);
    }
  }

  // Enable only the buttons that make sense for the run's status.
  setRun(run, status = run && run.status) {
    this.run = run;
    const active = status === "queued" || status === "running" || status === "paused";
    const paused = status === "paused" || Boolean(run && run.paused);
    const allowed = {
      pause: active && !paused,
      resume: active && paused,
      step: active,
      cancel: active,
    };
    for (const b of this.buttons) b.disabled = !allowed[b.dataset.action];
  }
}
