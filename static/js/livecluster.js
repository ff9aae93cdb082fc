// The live cluster card: where kubectl reaches the simulated cluster, a button that shows its run, and the
// kubeconfig download (instructors always; students once the instructor opens downloads).
import { gettext, interpolate } from "./i18n.js";
import { csrfToken, postJSON } from "./controls.js";

const REFRESH_MS = 10000;

export class LiveClusterCard {
  constructor(card, { onWatch }) {
    this.card = card;
    this.onWatch = onWatch;
    this.info = null;
    this.server = card.querySelector("#live-server");
    this.watch = card.querySelector("#live-watch");
    this.state = card.querySelector("#live-state");
    this.downloads = card.querySelector("#live-downloads");
    this.download = card.querySelector("#live-kubeconfig");
    this.howto = card.querySelector("#live-howto");
    this.error = card.querySelector("#live-error");
    this.watch.addEventListener("click", () => { if (this.info && this.info.run) this.onWatch(this.info.run); });
    if (this.downloads) {
      this.downloads.addEventListener("change", () => this.setDownloads(this.downloads.checked));
    }
    this.download.addEventListener("click", () => this.fetchKubeconfig());
    this.refresh();
    setInterval(() => { if (!document.hidden) this.refresh(); }, REFRESH_MS);
  }

  async refresh() {
    let info;
    try {
      const r = await fetch("/api/live", { headers: { Accept: "application/json" } });
      if (!r.ok) return;
      info = await r.json();
    } catch { return; }
    this.show(info);
  }

  show(info) {
    this.info = info;
    this.card.hidden = !info.enabled;
    this.server.textContent = info.server;
    this.watch.disabled = !info.run;
    const since = info.run && info.run.started_at
      ? new Date(info.run.started_at).toLocaleTimeString(document.documentElement.lang || undefined, { timeStyle: "short" }) : "";
    this.state.textContent = info.run
      ? interpolate(gettext("Running since %(time)s."), { time: since })
      : gettext("Not running. `make run` starts it (unless KUBEAPI_ENABLED=0).");
    if (this.downloads) this.downloads.checked = info.downloads;
    this.download.hidden = !info.can_download;
  }

  async setDownloads(open) {
    this.error.hidden = true;
    try {
      this.show(await postJSON("/api/live", { downloads: open }));
    } catch (err) {
      this.fail(err.message);
      this.refresh();
    }
  }

  async fetchKubeconfig() {
    this.error.hidden = true;
    let r;
    try {
      r = await fetch("/api/live/kubeconfig", { method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/yaml" } });
    } catch {
      this.fail(gettext("The server cannot be reached. Check the connection and try again."));
      return;
    }
    if (!r.ok) {
      this.fail(r.status === 403 ? gettext("The instructor has not opened kubeconfig downloads yet.")
        : r.status === 401 ? gettext("Log in to get a kubeconfig of your own.")
          : interpolate(gettext("The server answered with status %(status)s."), { status: r.status }));
      return;
    }
    const name = (r.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
    const file = name ? name[1] : "kubeconfig.yaml";
    const url = URL.createObjectURL(new Blob([await r.text()], { type: "application/yaml" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = file;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    this.howto.textContent = interpolate(
      gettext("Saved %(file)s. In a terminal: export KUBECONFIG=%(file)s, then kubectl get pods -w. A new download replaces the old token."),
      { file });
    this.howto.hidden = false;
  }

  fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
