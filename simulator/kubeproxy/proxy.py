"""kube-proxy (iptables mode), the running component: one per node (pkg/proxy/iptables/proxier.go v1.31,
pkg/proxy/endpointslicecache.go, pkg/util/async/bounded_frequency_runner.go).

It watches Services and EndpointSlices; every change marks the proxier dirty and asks its
BoundedFrequencyRunner for a sync, which runs at most once per minSyncPeriod (--iptables-min-sync-period,
1 s): a burst of endpoint changes becomes one iptables-restore. A sync computes the full rule set with
`iptables.sync_proxy_rules` from the Services and, per service port, the endpoints kube-proxy would use:
the ready ones, or - when none is ready - the serving terminating ones (ProxyTerminatingEndpoints, GA
in v1.28). The trace event carries the diff against the rules programmed before, and the Services' DNS
names; the full text is `proxy.rules`.
"""
from __future__ import annotations

from ..trace import ref
from . import iptables

COMPONENT = "kube-proxy"
MIN_SYNC_PERIOD = 1.0    # --iptables-min-sync-period
SYNC_PERIOD = 30.0       # --iptables-sync-period (the periodic full resync; quiet here when nothing changed)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def endpoints_map(slices: list[dict]) -> dict:
    """EndpointSliceCache -> EndpointsMap: "ns/svc" -> {port name: [{"ip", "port"}]}."""
    ready: dict = {}
    fallback: dict = {}
    for sl in slices:
        svc = (sl["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
        if not svc:
            continue
        key = f"{sl['metadata'].get('namespace', 'default')}/{svc}"
        for p in sl.get("ports") or []:
            pname = p.get("name") or ""
            for ep in sl.get("endpoints") or []:
                c = ep.get("conditions") or {}
                for ip in ep.get("addresses") or []:
                    e = {"ip": ip, "port": p["port"]}
                    if c.get("ready", True):
                        ready.setdefault(key, {}).setdefault(pname, []).append(e)
                    elif c.get("serving") and c.get("terminating"):
                        fallback.setdefault(key, {}).setdefault(pname, []).append(e)
    out: dict = {}
    for key in set(ready) | set(fallback):
        ports = set(ready.get(key, {})) | set(fallback.get(key, {}))
        out[key] = {pn: (ready.get(key, {}).get(pn) or fallback.get(key, {}).get(pn) or []) for pn in ports}
    return out


class KubeProxy:
    COMPONENT = COMPONENT

    def __init__(self, env, rng, tracer, apiserver, node: str, *, cluster_cidr: str | None = "10.244.0.0/16",
                 min_sync_period: float = MIN_SYNC_PERIOD):
        self.env, self.rng, self.tracer, self.api = env, rng, tracer, apiserver
        self.node = node
        self.instance = node
        self.me = ref(COMPONENT, node)
        self.cluster_cidr = cluster_cidr
        self.min_sync_period = min_sync_period
        self.services: dict[str, dict] = {}
        self.slices: dict[str, dict] = {}
        self.rules = ""
        self.last_sync = float("-inf")
        self.syncs = 0
        self.running = False
        self._watching = False
        self._pending = False
        self._gen = 0
        self._state: dict = {}

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self._gen += 1
        if not self._watching:
            self._watching = True
            self.api.watch("services", self.me, lambda k, o: self._on("svc", k, o))
            self.api.watch("endpointslices", self.me, lambda k, o: self._on("slice", k, o))
        # The informers' initial LIST, then the first sync (kube-proxy syncs once both caches are synced).
        lister = getattr(self.api, "list_shared", self.api.list)   # read-only, shared by every node's kube-proxy
        self.services = {_key(s): s for s in lister("/registry/services/specs/") if s}
        self.slices = {_key(s): s for s in lister("/registry/endpointslices/") if s}
        # The first sync after start: the rules a running node already has (kube-proxy started with the
        # node, before any scenario) - computed silently; changes from here on are traced.
        if self.syncs == 0:
            self.sync_proxy_rules(quiet=True)
        else:
            self._request_sync()   # a restart (the node came back): a real, traced resync
        gen = self._gen

        def periodic() -> None:
            if self.running and gen == self._gen:
                self._request_sync()
                self.env.schedule(SYNC_PERIOD, periodic)

        self.env.schedule(SYNC_PERIOD, periodic)

    def stop(self) -> None:
        self.running = False
        self._gen += 1
        self._pending = False

    def _on(self, what: str, kind: str, obj: dict) -> None:
        if not self.running:
            return
        store = self.services if what == "svc" else self.slices
        k = _key(obj)
        if kind == "DELETED":
            store.pop(k, None)
        else:
            store[k] = obj
        self._request_sync()

    def _request_sync(self) -> None:
        """BoundedFrequencyRunner.Run: now if minSyncPeriod has passed since the last sync, else once
        at the end of it; requests in between coalesce."""
        if self._pending:
            return
        self._pending = True
        gen = self._gen
        delay = max(0.0, self.last_sync + self.min_sync_period - self.env.now)

        def run() -> None:
            if not self.running or gen != self._gen:
                return
            self._pending = False
            self.sync_proxy_rules()

        self.env.schedule(delay, run)

    def sync_proxy_rules(self, quiet: bool = False) -> str:
        self.last_sync = self.env.now
        services = [s for _, s in sorted(self.services.items())
                    if (s.get("spec") or {}).get("clusterIP") not in (None, "", "None")]
        eps = endpoints_map([s for _, s in sorted(self.slices.items())])
        # Every node's kube-proxy programs the same rules from the same Services and slices: compute
        # them once per distinct input (a small shared memo keyed by the objects' resourceVersions).
        memo_key = (self.cluster_cidr,
                    tuple((k, _rv(s)) for k, s in sorted(self.services.items())),
                    tuple((k, _rv(s)) for k, s in sorted(self.slices.items())))
        rules = _RULES_MEMO.get(memo_key)
        if rules is None:
            rules = iptables.sync_proxy_rules(services, eps, cluster_cidr=self.cluster_cidr)
            if len(_RULES_MEMO) >= 8:
                _RULES_MEMO.pop(next(iter(_RULES_MEMO)))
            _RULES_MEMO[memo_key] = rules
        old = self.rules
        self.rules = rules
        self.syncs += 1
        if rules == old:
            return rules
        if not quiet and not self.tracer.wants(None, "kube-proxy.sync"):
            # Summary level (large clusters): counted, not built.
            self.tracer.count(COMPONENT, "kube-proxy.sync", None, self.instance, f"iptables-restore on {self.node}")
            return rules
        old_lines, new_lines = old.splitlines(), rules.splitlines()
        old_set, new_set = set(old_lines), set(new_lines)
        added = [ln for ln in new_lines if ln not in old_set and ln.startswith("-A ")]
        removed = [ln for ln in old_lines if ln not in new_set and ln.startswith("-A ")]
        n_eps = sum(len(v) for per in eps.values() for v in per.values())
        # The DNS names of the Services whose rules changed in this sync (at most 20, to stay compact).
        state = {_key(s): (s.get("spec", {}).get("clusterIP"), repr(s.get("spec", {}).get("ports")), repr(eps.get(_key(s))))
                 for s in services}
        changed = sorted(k for k in state if self._state.get(k) != state[k])
        self._state = state
        if quiet:
            return rules
        by_key = {_key(s): s for s in services}
        dns = [iptables.service_dns_name(by_key[k]) for k in changed[:20]]
        first = not old
        self.tracer.emit(COMPONENT, self.instance, "kube-proxy.sync",
                         f"iptables-restore on {self.node}: {len(services)} service(s), {n_eps} endpoint(s)"
                         + ("" if first else f", +{len(added)}/-{len(removed)} rule(s)"),
                         {"services": len(services), "endpoints": n_eps,
                          "rules": len([ln for ln in new_lines if ln.startswith("-A ")]),
                          "added": added if not first else [], "removed": removed, "dns": dns})
        return rules


_RULES_MEMO: dict = {}


def _rv(obj: dict) -> str:
    return str(obj.get("metadata", {}).get("resourceVersion", "")) or str(id(obj))


def _key(obj: dict) -> str:
    m = obj.get("metadata", {})
    return f"{m.get('namespace', '')}/{m.get('name', '')}"
