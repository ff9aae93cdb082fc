// The API server panel: the recent traced requests as a pipeline - authentication → authorization →
// mutating admission (each plugin) → validation → validating admission (each plugin) → etcd - each stage
// passed, stopped (with the reason and the status code) or not reached; which instance served the request
// (and the load balancer's choice in HA); the control plane's own requests counted by status code.
// Drawn from state.apiserver, so it is the same live, after a snapshot and on a finished run.

import { gettext, interpolate } from "./i18n.js";
import { el, SlicePanel } from "./dom.js";

const HTTP = {
  200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 422: "Unprocessable Entity", 429: "Too Many Requests",
  500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout",
};
const REQUESTS_SHOWN = 4;

// The pipeline's stages in order, each with the recorded steps that belong to it.
function stagesOf(req) {
  const out = [
    { id: "authn", label: gettext("Authentication"), steps: [] },
    { id: "authz", label: gettext("Authorization (RBAC)"), steps: [] },
    { id: "mutating", label: gettext("Mutating admission"), steps: [] },
    { id: "validation", label: gettext("Validation"), steps: [] },
    { id: "validating", label: gettext("Validating admission"), steps: [] },
    { id: "etcd", label: "etcd", steps: [] },
  ];
  const byId = Object.fromEntries(out.map((s) => [s.id, s]));
  for (const s of req.stages) {
    const id = s.stage === "admission" ? s.phase : s.stage;
    if (byId[id]) byId[id].steps.push(s);
  }
  return out;
}

function stateOf(stage, req) {
  if (!stage.steps.length) return "skipped";
  if (stage.steps.some((s) => s.decision === "deny")) return "stopped";
  if (stage.id === "etcd" && req.stopped === "etcd") return "stopped";
  return "passed";
}

export class ApiServerPanel extends SlicePanel {
  render(state) {
    const api = state.apiserver || { requests: [], codes: {} };
    if (!this.changed([api.requests, api.codes, api.audit_note])) return;
    this.auditNote = api.audit_note || null;
    const body = this.body;
    const reqs = api.requests.slice(-REQUESTS_SHOWN).reverse();
    if (!reqs.length) body.append(el("p", "panel-empty", gettext("No request from kubectl yet.")));
    reqs.forEach((req, i) => body.append(this.request(req, i === 0)));
    const codes = Object.entries(api.codes || {}).sort(([a], [b]) => Number(a) - Number(b));
    if (codes.length) {
      const p = el("p", "api-incluster");
      p.append(el("strong", null, gettext("Requests from the control plane and the kubelets:")), " ",
        codes.map(([c, n]) => `${c} ${HTTP[c] || ""} ×${n}`).join(" · "));
      body.append(p);
    }
  }

  request(req, newest) {
    const box = el("article", `api-req${newest ? " newest" : ""}`);
    box.dataset.id = String(req.id);
    box.dataset.code = req.code == null ? "" : String(req.code);
    box.dataset.stopped = req.stopped || "";
    const head = el("header", "api-req-head");
    const codeText = req.code == null ? gettext("in progress") : `${req.code} ${HTTP[req.code] || ""}`.trim();
    const ok = req.code != null && req.code < 400;
    head.append(el("span", `api-code ${req.code == null ? "pending" : ok ? "ok" : "bad"}`, `${req.code == null ? "…" : ok ? "✓" : "✗"} ${codeText}`),
      el("code", "api-line", `${req.method || "?"} ${req.path || ""}`));
    const who = el("span", "api-who");
    who.append(interpolate(gettext("user %(user)s · served by %(instance)s"), { user: req.user || "?", instance: req.instance }));
    if (req.lb) who.append(" ", interpolate(gettext("(chosen by the load balancer among %(n)s healthy)"), { n: req.lb.healthy }));
    head.append(who);
    box.append(head);

    if (req.real) {
      // A real cluster's API server does not show its pipeline: only that it got through it, or not.
      box.append(el("p", "api-real", req.code != null && req.code < 400
        ? gettext("On a real cluster the stages are not visible from outside; this answer means the request passed authentication, authorization, admission and validation, and was stored in etcd.")
        : gettext("On a real cluster the stages are not visible from outside; the API server refused the request with this status.")));
      if (this.auditNote) {
        box.append(el("p", "api-real api-real-why", interpolate(gettext("The API server's audit log, which would show them, could not be followed: %(reason)s"), { reason: this.auditNote })));
      }
    } else {
      box.append(this.pipeline(req));
      if (req.audit) box.append(el("p", "api-real api-audit", gettext("Read from the real API server's audit log: the user it authenticated, the authorizer's decision and reason, and the fields that defaults and admission set.")));
    }
    if (req.message) {
      const msg = el("p", "api-message");
      msg.append(el("code", null, req.message));
      box.append(msg);
    }
    return box;
  }

  pipeline(req) {
    const ol = el("ol", "api-pipeline");
    for (const stage of stagesOf(req)) {
      const st = stateOf(stage, req);
      const li = el("li", `api-stage ${st}`);
      li.dataset.stage = stage.id;
      li.dataset.state = st;
      const mark = st === "passed" ? "✓" : st === "stopped" ? "✗" : "–";
      const word = st === "passed" ? gettext("passed") : st === "stopped" ? gettext("stopped here") : gettext("not reached");
      li.append(el("span", "s-label", `${mark} ${stage.label}`), el("span", "s-word", word));
      if (stage.id === "mutating" || stage.id === "validating") {
        const plugins = el("span", "s-plugins");
        for (const s of stage.steps) {
          // (a real cluster's audit log does not say which mutating plugin set what: one chip for all)
          const chip = el("span", `plugin ${s.decision === "deny" ? "deny" : "admit"}`, s.plugin ?? gettext("defaults and admission"));
          chip.dataset.plugin = s.plugin ?? "";
          if (s.changes) chip.append(el("small", null, ` ✎${s.changes}`));
          chip.title = s.changes ? interpolate(gettext("changed %(n)s field(s)"), { n: s.changes }) + (s.notes && s.notes.length ? `: ${s.notes.join(", ")}` : "") : (s.notes || []).join("; ");
          plugins.append(chip);
        }
        li.append(plugins);
      } else if (stage.steps.length && stage.steps[0].detail && stage.id !== "authz") {
        li.append(el("span", "s-detail", stage.steps[0].detail));
      } else if (stage.id === "authz" && stage.steps.length) {
        li.title = stage.steps[0].detail || "";
      }
      ol.append(li);
    }
    return ol;
  }
}
