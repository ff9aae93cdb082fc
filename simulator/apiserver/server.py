"""kube-apiserver: the request pipeline, the generic REST storage, the watch cache and the watch fan-out.

The pipeline for a request is the real one, in order (k8s.io/apiserver/pkg/server/config.go
DefaultBuildHandlerChain, then endpoints/handlers/{create,update,patch,delete,get}.go and
registry/generic/registry/store.go): authentication -> authorization -> decode (+ API defaults) ->
mutating admission -> the registry strategy (PrepareForCreate/PrepareForUpdate) -> validation ->
validating admission -> etcd (optimistic concurrency through a Txn, as storage/etcd3/store.go) -> response.

Every resource in `registry.RESOURCES` is served by the same generic store (`Store` upstream): get, list,
create, update (PUT), patch (merge, JSON, strategic), delete (graceful for Pods, finalizers, propagation
policy), and the status / scale / binding subresources.

Writes reach watchers through the watch cache: etcd's watch feeds the cache (one per API server
instance, as each kube-apiserver has its own cacher), the cache keeps a window of recent events per
resource (replayed to a watch started at a resourceVersion; older ones are 410 Gone) and feeds every
watcher whose selector the object matches (kubelets watch with fieldSelector spec.nodeName=<node>, and
the cacher indexes those watchers by node).

Tracing: a request with `traced=True` (kubectl's) is shown stage by stage (authn, authz, each admission
plugin, validation, storage, response). Other requests are summarised in a request arrow, a storage
arrow for writes, and the response. A `quiet=True` request (lease renewals, heartbeats) emits nothing.
"""
from __future__ import annotations

import bisect
import dataclasses
import inspect
import ipaddress
import random
import re
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Generator

from .. import clock, codec, ids
from ..etcd import Compare, EtcdCluster, KeyValue, Op, WatchEvent
from ..etcd.member import encode as etcd_encode
from ..component import Component
from ..kernel import Environment, Future
from ..trace import Tracer, ref
from . import admission as adm
from . import audit as audit_mod
from . import decode as decode_mod
from . import authz as authz_mod
from . import defaults as defaults_mod
from . import patch as patch_mod
from . import registry
from . import selectors as sel
from . import status as st
from . import validation as validation_mod
from .authn import Authenticator, Credential, UserInfo
from .authz import Attributes, NodeAuthorizer, RBACAuthorizer, UnionAuthorizer

COMPONENT = "apiserver"
# plugin/pkg/admission/resourcequota/controller.go: e.checkQuotas(quotas, admissionAttributes, 3)
QUOTA_RETRIES = 3

# The watch cache's event window (k8s.io/apiserver/pkg/storage/cacher/watch_cache.go): it starts at
# defaultLowerBoundCapacity events and grows up to defaultUpperBoundCapacity; when full, events older than
# eventFreshDuration (75 s) are evicted first.
WINDOW_MIN, WINDOW_MAX, EVENT_FRESH = 100, 100 * 1024, 75.0
# Service ranges: kind's defaults (--service-cluster-ip-range=10.96.0.0/16, --service-node-port-range).
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/16")
NODE_PORTS = (30000, 32767)
DEFAULT_GRACE = 30  # v1.DefaultTerminationGracePeriodSeconds
COMPACT_KEY = "compact_rev_key"  # storage/etcd3/compact.go compactRevKey


@dataclass
class Request:
    method: str
    path: str
    verb: str
    resource: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    api_group: str = ""
    body: dict | list | None = None
    credential: Credential | None = None
    client: dict = field(default_factory=lambda: ref("kubectl", "kubectl"))
    traced: bool = False
    query: dict = field(default_factory=dict)   # labelSelector, fieldSelector, resourceVersion, propagationPolicy,
    patch_type: str = ""                        # gracePeriodSeconds, dryRun; patch_type: merge|strategic|json
    quiet: bool = False
    # An untraced (compact) request has had its `apiserver.request` arrow emitted.
    announced: bool = False
    # For the audit log (when the cluster writes one): the Audit-Id the client gets back, who sent it from
    # where (kubectl's User-Agent and address), and the request's audit record while it is served.
    audit_id: str = ""
    user_agent: str = ""
    source_ip: str = ""
    request_uri: str = ""   # the path and query as sent (the audit event's requestURI)
    audit_by_caller: bool = False   # the caller writes the ResponseComplete event (with the body it sends)
    audit_received: str = ""        # when it arrived (requestReceivedTimestamp), while audited
    audit: object = None            # its audit_mod.Entry, once authentication named the user (None: not logged)
    # The client built the body for this request alone and never touches it again (an event recorder's
    # Event): the server may take it as the decoded request instead of decoding a copy.
    body_owned: bool = False


@dataclass
class Response:
    code: int
    body: dict | None = None
    status: dict | None = None
    resource_version: str | None = None
    warnings: list = field(default_factory=list)   # admission warnings (the Warning: header kubectl prints)

    @property
    def ok(self) -> bool:
        return self.code < 400


def binding_success() -> dict:
    """What a pods/binding create answers (pkg/registry/core/pod/storage BindingREST.Create): a Status."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


class WatchExpired(Exception):
    """A watch from a resourceVersion older than the watch cache's window: 410 Gone, reason Expired.
    A client's watch stream gets it as an ERROR event carrying this Status."""

    def __init__(self, status: dict):
        super().__init__(status["message"])
        self.status = status
        self.code = status["code"]


class Watcher:
    __slots__ = ("resource", "who", "selector", "on_event", "node_name", "order", "last_rv", "active", "next_t",
                 "namespace", "quiet", "on_error", "server", "spec", "moved_to")

    def __init__(self, resource, who, selector, on_event, node_name, order, namespace="", quiet=False, on_error=None):
        self.resource = resource
        self.who = who                      # {"component", "instance"}
        self.selector = selector            # None: every object (of the namespace); else a predicate
        self.on_event = on_event            # (ADDED|MODIFIED|DELETED, object)
        self.node_name = node_name          # set for a watch with fieldSelector spec.nodeName=<node>
        self.order = order                  # registration order: the order watchers are woken in
        self.last_rv = 0                    # the resourceVersion of the last event delivered
        self.active = True
        self.next_t = 0.0                   # a watch stream is ordered: no event overtakes the previous one
        self.namespace = namespace
        self.quiet = quiet
        self.on_error = on_error
        self.server = None
        self.spec = None                    # how to re-establish it elsewhere (the load balancer uses it)
        self.moved_to = None                # the watch that replaced this one on another instance

    def matches(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        if self.namespace and obj.get("metadata", {}).get("namespace") != self.namespace:
            return False
        return self.selector is None or self.selector(obj)

    def stop(self) -> None:
        self.active = False
        if self.moved_to is not None:
            self.moved_to.stop()
        if self.server is not None:
            self.server._remove_watcher(self)


def _node_of(obj: dict | None) -> str | None:
    return obj.get("spec", {}).get("nodeName") if obj else None


_NODE_RE = re.compile(r'"nodeName":"((?:[^"\\]|\\.)*)"')


def _raw_node(raw: str | None) -> str | None:
    """spec.nodeName of a serialized Pod without decoding it (the only "nodeName" key a Pod has)."""
    if raw is None:
        return None
    m = _NODE_RE.search(raw)
    return m.group(1) if m else None


def _decode(raw: str, rv: int) -> dict:
    obj = codec.loads(raw)
    obj.setdefault("metadata", {})["resourceVersion"] = str(rv)
    return obj


# Tests set this to hand every shared object out read-only (codec.read_only), which proves that no consumer
# changes one in place. Off in normal runs: the consumers' contract is enough, and the copy costs time.
READ_ONLY_SHARED = False


# Parts that many Pods hold equal, shared between the decoded Pods that the watch cache hands out: JSON text
# of the part -> the first decoded copy. Cleared when full (a bound on memory, not an LRU: the parts that
# recur come back at once).
_PARTS: dict[bytes, object] = {}
_PARTS_MAX = 1 << 16


def _part(x):
    k = codec.dumps_bytes(x)
    y = _PARTS.get(k)
    if y is None:
        if len(_PARTS) >= _PARTS_MAX:
            _PARTS.clear()
        _PARTS[k] = x
        return x
    return y


_STRS: dict[str, str] = {}
# The string fields of a Pod whose values recur (enumerations, images, node names, timestamps).
_POD_META_STRS = ("namespace", "generateName", "creationTimestamp")
_POD_SPEC_STRS = ("restartPolicy", "dnsPolicy", "schedulerName", "serviceAccountName", "serviceAccount",
                  "preemptionPolicy", "nodeName")
_CONTAINER_STRS = ("name", "image", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy")
_POD_STATUS_STRS = ("phase", "qosClass", "hostIP", "startTime")
_CONTAINER_STATUS_STRS = ("name", "image", "imageID")


def _share(d: dict, strs: tuple[str, ...], parts: tuple[str, ...] = (), table: dict = _STRS) -> None:
    for f in strs:
        v = d.get(f)
        if v is not None:
            d[f] = table.setdefault(v, v)   # (stored objects are valid: these fields hold strings)
    for f in parts:
        v = d.get(f)
        if v is not None:
            d[f] = _part(v)


def _share_pod_parts(obj: dict) -> None:
    """Replace the parts of a decoded Pod that other Pods hold equal by one shared copy: the service-account
    token volume and the default tolerations (every Pod in a namespace), a template's labels, owner and
    requests (every replica), conditions, container states and host IPs (Pods that changed in the same
    second, on the same node), and recurring strings (policies, images, node names). A decoded Pod took
    about 13 KB, 4.4 KB with these shared; at 150,000 Pods that is ~1.2 GiB. Safe for the reason sharing
    the whole object is: no holder changes a shared object (READ_ONLY_SHARED)."""
    if len(_STRS) >= _PARTS_MAX:
        _STRS.clear()
    md = obj.get("metadata")
    if md:
        _share(md, _POD_META_STRS, ("labels", "ownerReferences"))
    spec = obj.get("spec")
    if spec:
        _share(spec, _POD_SPEC_STRS, ("tolerations",))
        for vol in spec.get("volumes") or ():
            _share(vol, (), ("projected",))
        for c in spec.get("containers") or ():
            _share(c, _CONTAINER_STRS, ("resources",))
    status = obj.get("status")
    if status:
        v = status.get("conditions")
        if v:
            status["conditions"] = [_part(c) for c in v]
        _share(status, _POD_STATUS_STRS, ("hostIPs",))
        for c in status.get("containerStatuses") or ():
            _share(c, _CONTAINER_STATUS_STRS, ("state", "lastState"))


def _texts(ev: WatchEvent) -> tuple[str | None, str | None, int]:
    """An etcd event's new text (None for a delete), previous text (None when created) and previous revision."""
    prev = ev.prev_kv
    return (ev.kv.value if ev.type == "PUT" else None,
            prev.value if prev is not None else None, prev.mod_revision if prev is not None else 0)


def _decode_shared(raw: str, rv: int) -> dict:
    """A decoded object that several consumers will hold (SharedObject, list_shared): read-only when the
    tests ask for it. A Pod's common parts are shared with other Pods (_share_pod_parts). (Interning every
    string saved about a third of a decoded object but tripled the cost of a decode: not done.)"""
    obj = _decode(raw, rv)
    if obj.get("kind") == "Pod" and (obj.get("spec") or {}).get("nodeName"):
        # Bound Pods only: a Pending one is replaced within milliseconds by its binding (and the scheduler
        # benchmark would pay ~3 % of its time for the parts of objects about to be dropped).
        _share_pod_parts(obj)
    return codec.read_only(obj) if READ_ONLY_SHARED else obj


class SharedObject:
    """One watch event's object, decoded once (on first delivery) for every watch stream that carries it.

    Upstream, a shared informer hands one cached object to every event handler and lister ("Objects
    returned here must be treated as read-only": k8s.io/client-go/listers/core/v1/pod.go), and the watch
    cache sends one event object to every watcher (k8s.io/apiserver/pkg/storage/cacher/cacher.go
    dispatchEvent), serialized once for all of them (caching_object.go). Here one decode per event
    replaces one per watcher: a Pod used to be held decoded by the controller-manager, the scheduler and
    its kubelet, an EndpointSlice by every node's kube-proxy. Invariant: whoever receives the object
    copies it before changing it (codec.clone / copy.deepcopy); tests/sim runs with READ_ONLY_SHARED."""
    __slots__ = ("raw", "rev", "obj")

    def __init__(self, raw: str, rev: int, obj: dict | None = None):
        self.raw, self.rev, self.obj = raw, rev, obj

    def get(self) -> dict:
        obj = self.obj
        if obj is None:
            obj = self.obj = _decode_shared(self.raw, self.rev)
        return obj


def _clone(obj):
    return codec.clone(obj)


_ATTR_FIELDS = {f.name for f in dataclasses.fields(adm.Attrs)}


def _attrs(**kw) -> adm.Attrs:
    """Admission attributes, with whichever fields the policy module's Attrs declares."""
    return adm.Attrs(**{k: v for k, v in kw.items() if k in _ATTR_FIELDS})


def _set_defaults(kind: str, obj: dict) -> None:
    fn = getattr(defaults_mod, "set_defaults", None)
    if fn is not None:
        fn(kind, obj)
    elif kind == "Pod":
        defaults_mod.set_defaults_pod(obj)


def _validate(kind: str, obj: dict, old: dict | None) -> list[dict]:
    fn = getattr(validation_mod, "validate", None)
    if fn is not None:
        return fn(kind, obj, old)
    errs = []
    if not obj.get("metadata", {}).get("name"):
        errs.append({"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                     "field": "metadata.name"})
    if kind == "Pod" and old is None:
        errs += [e for e in validation_mod.validate_pod(obj) if e["field"] != "metadata.name" or not errs]
    return errs


def _decode_error(info: registry.ResourceInfo, body: dict) -> dict | None:
    """Decoding the body into the Go type (handlers/create.go, update.go: the decode error goes through
    transformDecodeError and is a 400 BadRequest): a JSON value of the wrong type for a field."""
    err = decode_mod.check(info.kind, body)
    if err is None:
        return None
    kind = body.get("kind") if isinstance(body.get("kind"), str) and body.get("kind") else info.kind
    api_version = body.get("apiVersion") if isinstance(body.get("apiVersion"), str) and body.get("apiVersion") else info.api_version
    return st.bad_request(decode_mod.bad_request_message(kind, api_version, err, info.kind))


_SYSTEM_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")

# Resources that the watch cache does not hold: kube-apiserver disables it for Events
# (pkg/kubeapiserver/default_storage_factory_builder.go DefaultWatchCacheSizes: events -> 0), so their gets
# and lists read etcd. (events.k8s.io Events are the same objects under the same keys.)
UNCACHED_RESOURCES = frozenset({"events"})
_UNCACHED_PREFIXES = tuple(registry.prefix(r, "") for r in sorted(UNCACHED_RESOURCES))


class ApiServer(Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, etcd: EtcdCluster,
                 authenticator: Authenticator, instance: str = "apiserver-1", node: str = "control-plane",
                 authorizer=None, etcd_member: str | None = None):
        super().__init__(env, rng, tracer, instance, node)
        self.etcd = etcd
        self._quiet_keys = _QUIET.setdefault(etcd, {})   # one dict per etcd cluster, shared by its API servers
        # kubeadm's stacked control plane: each kube-apiserver talks to the etcd member on its own node
        # (--etcd-servers=https://127.0.0.1:2379); None: whichever member etcd routes to (the leader).
        self.etcd_member = etcd_member
        self.authenticator = authenticator
        self.authorizer = authorizer or UnionAuthorizer(NodeAuthorizer(self._pod_node), RBACAuthorizer(self._list_resource))
        self.admission = adm.CHAIN
        self.running = True
        try:
            params = inspect.signature(etcd.txn).parameters
        except (TypeError, ValueError):
            params = {}
        self._txn_quiet = "quiet" in params
        self._txn_member = "member" in params
        self._watchers: dict[str, list[Watcher]] = {}     # resource -> watchers without a node index
        self._by_node: dict[str, list[Watcher]] = {}      # node -> pod watchers (spec.nodeName=<node>)
        self._order = 0
        self._generation: dict[str, int] = {}             # resource -> bumped on every change (for memos)
        self._memo: dict[str, tuple[int, list]] = {}
        self._quota_queue: dict[str, list] = {}         # namespace -> quota-charging creates, first holds it
        self._lifecycle: list[Callable[[str], None]] = []  # notified on "stopped" / "started"
        # The audit log (--audit-log-path, --audit-policy-file), when the cluster keeps one (Cluster.enable_audit):
        # the backend, and for in-cluster clients a function giving their (source IPs, User-Agent).
        self.audit: audit_mod.AuditLog | None = None
        self.audit_client: Callable[[dict], tuple[list, str]] | None = None
        self._audit_ids = random.Random(f"audit-{instance}")   # its own stream: the cluster's rng is untouched
        self._relist()
        etcd.store.watch("/registry/", prefix=True, callback=self._on_etcd_event)

    @property
    def watchers(self) -> list[Watcher]:
        ws = [w for lst in self._watchers.values() for w in lst] + [w for lst in self._by_node.values() for w in lst]
        return sorted(ws, key=lambda w: w.order)

    # ---- lifecycle ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """The process stops: it serves nothing, its cache is gone, its watch streams break (clients
        re-establish them on another instance through the load balancer)."""
        if not self.running:
            return
        self.running = False
        broken = self.watchers
        self._watchers, self._by_node = {}, {}
        for w in broken:
            w.active = False
        self._cache, self._dirs = {}, {}
        for fn in list(self._lifecycle):
            fn("stopped", broken)

    def start(self) -> None:
        """Start again: the cacher relists from etcd before serving."""
        if self.running:
            return
        self.running = True
        self._relist()
        if getattr(self, "_compact_interval", None):
            self.start_compaction(self._compact_interval)
        for fn in list(self._lifecycle):
            fn("started", [])

    # ---- etcd compaction (k8s.io/apiserver/pkg/storage/etcd3/compact.go) ------------------------------
    def start_compaction(self, interval: float = 300.0) -> None:
        """kube-apiserver compacts etcd every --etcd-compaction-interval (5 min). Every instance runs the
        compactor; a Txn on the version of the key "compact_rev_key" elects one per interval, which
        compacts to the revision the previous winner recorded (so history of one interval is kept)."""
        self._compact_interval = interval
        self._compact_state = getattr(self, "_compact_state", (0, 0))
        self._compact_gen = getattr(self, "_compact_gen", 0) + 1
        gen = self._compact_gen
        self.env.schedule(interval, lambda: self._compact_tick(gen))

    def _compact_tick(self, gen: int) -> None:
        if not self.running or gen != self._compact_gen:
            return
        self.env.process(self._compact(gen))

    def _compact(self, gen: int) -> Generator:
        t, rev = self._compact_state
        req = Request("POST", "compact", "compact", "", quiet=True)
        resp = yield self._txn(req, [Compare(COMPACT_KEY, "version", "==", t)], [Op.put(COMPACT_KEY, str(rev))],
                               [Op.get(COMPACT_KEY)], None)
        if isinstance(resp, Exception) or not self.running:
            pass
        elif not resp.succeeded:
            kv = resp.responses[0] if resp.responses else None
            self._compact_state = (kv.version if kv else t, resp.revision)
        else:
            self._compact_state = (t + 1, resp.revision)
            store = self.etcd.store
            if rev and rev > store.compact_revision:
                compact = getattr(self.etcd, "compact", None)
                (compact or store.compact)(rev)
        if self.running and gen == self._compact_gen:
            self.env.schedule(self._compact_interval, lambda: self._compact_tick(gen))

    def on_lifecycle(self, fn: Callable[[str, list], None]) -> None:
        self._lifecycle.append(fn)

    # ---- the watch cache ----------------------------------------------------------------------------
    def _relist(self) -> None:
        # key -> etcd's KeyValue for it (shared, not copied: etcd may keep an older value deflated, and
        # reading it gives the same text). Keys are grouped by directory (/registry/pods/<ns>/) so a list by
        # prefix is cheap.
        self._cache: dict[str, KeyValue] = {}
        self._dirs: dict[str, dict[str, None]] = {}
        self._dir_sorted: dict[str, list[str]] = {}
        self._dir_names: list[str] | None = None
        self._window: dict[str, deque] = {}
        self._evicted: set[str] = set()
        self._start_rev = self.etcd.store.revision
        self._recent: dict[str, tuple[int, dict]] = {}    # key -> (rev, decoded object), read-only uses
        # key -> (the stored text, the object it encodes) for a write in flight whose object is shared
        # read-only from the start (a binding's Pod): its watch event then needs no decode of that text.
        self._written: dict[str, tuple[str, dict]] = {}
        # key -> (rev, decoded object) handed out by list_shared; dropped when the key changes, so it holds
        # (almost) only objects that the informers which listed them still hold.
        self._listed: dict[str, tuple[int, dict]] = {}
        self._ips: set[str] = set()
        self._ports: set[int] = set()
        for kv in self.etcd.store.range("/registry/", prefix=True):
            if kv.key.startswith(_UNCACHED_PREFIXES):
                continue
            self._cache_put(kv.key, kv)
            if registry.resource_of(kv.key) == "services":
                self._track_service(kv.value, None)

    def _cache_put(self, key: str, kv: KeyValue) -> None:
        if key not in self._cache:
            d = key[:key.rindex("/") + 1]
            bucket = self._dirs.get(d)
            if bucket is None:
                bucket = self._dirs[d] = {}
                self._dir_names = None
            bucket[key] = None
            self._dir_sorted.pop(d, None)
        self._cache[key] = kv

    def _cache_del(self, key: str) -> None:
        if self._cache.pop(key, None) is None:
            return
        d = key[:key.rindex("/") + 1]
        bucket = self._dirs.get(d)
        if bucket is not None:
            bucket.pop(key, None)
            self._dir_sorted.pop(d, None)

    def _kv(self, key: str) -> KeyValue | None:
        """etcd's KeyValue of a key: from the watch cache, or from etcd for the resources it does not hold
        (UNCACHED_RESOURCES)."""
        kv = self._cache.get(key)
        if kv is None and key.startswith(_UNCACHED_PREFIXES):
            return self.etcd.store.get(key)
        return kv

    def _hit(self, key: str) -> tuple[int, str] | None:
        """(mod_revision, stored text) of a key (see _kv)."""
        kv = self._kv(key)
        return None if kv is None else (kv.mod_revision, kv.value)

    def get(self, key: str) -> dict | None:
        hit = self._hit(key)
        if hit is None:
            return None
        return _decode(hit[1], hit[0])

    def get_shared(self, key: str) -> dict | None:
        """The current object as the watch cache shares it (decoded once per revision): read it, never change
        it. What an informer's lister hands out - admission plugins look objects up this way."""
        kv = self._kv(key)
        if kv is None:
            return None
        rev = kv.mod_revision
        listed = self._listed.get(key)
        if listed is not None and listed[0] == rev:
            return listed[1]   # an informer's initial list decoded it at this revision already
        recent = self._recent.get(key)
        if recent is not None and recent[0] == rev:
            return recent[1]   # (before reading the text, which etcd may keep deflated)
        return self._decoded(key, rev, kv.value)

    def keys(self, prefix: str) -> list[str]:
        if prefix.startswith(_UNCACHED_PREFIXES):
            return [kv.key for kv in self.etcd.store.range(prefix, prefix=True)]
        if self._dir_names is None:
            self._dir_names = sorted(self._dirs)
        out: list[str] = []
        names = self._dir_names
        i = bisect.bisect_left(names, prefix[:prefix.rindex("/") + 1] if "/" in prefix else prefix)
        for d in names[i:]:
            if not (d.startswith(prefix) or prefix.startswith(d)):
                if d > prefix and not d.startswith(prefix):
                    break
                continue
            ks = self._dir_sorted.get(d)
            if ks is None:
                ks = self._dir_sorted[d] = sorted(self._dirs[d])
            out.extend(ks if d.startswith(prefix) else [k for k in ks if k.startswith(prefix)])
        return out

    def list(self, prefix: str) -> list[dict]:
        hit = self._hit
        return [_decode(r[1], r[0]) for r in map(hit, self.keys(prefix)) if r is not None]

    def list_shared(self, prefix: str) -> list[dict]:
        """`list` for informers' initial lists: objects that several informers may share, read-only to
        all of them (as SharedObject's). An object listed before is handed out again until it changes,
        so the controller-manager, the scheduler and every kube-proxy keep one decoded copy of it."""
        listed = self._listed
        out = []
        for k in self.keys(prefix):
            rev, raw = self._hit(k)
            hit = listed.get(k)
            if hit is None or hit[0] != rev:
                hit = listed[k] = (rev, _decode_shared(raw, rev))
            out.append(hit[1])
        return out

    @property
    def revision(self) -> int:
        return self.etcd.store.revision

    def _list_resource(self, resource: str) -> list[dict]:
        """For the authorizers (RBAC reads its informers' caches): decoded once per change."""
        gen = self._generation.get(resource, 0)
        hit = self._memo.get(resource)
        if hit is None or hit[0] != gen:
            hit = self._memo[resource] = (gen, self.list(registry.prefix(resource)))
        return hit[1]

    def _pod_node(self, namespace: str, name: str) -> str | None:
        pod = self.get(registry.key("pods", namespace, name))
        return pod["spec"].get("nodeName") if pod else None

    # ---- watches ------------------------------------------------------------------------------------
    def watch(self, resource: str, who: dict, on_event: Callable[[str, dict], None],
              selector: Callable[[dict], bool] | None = None, node_name: str | None = None, *,
              resource_version: str | None = None, namespace: str = "", label_selector: str = "",
              field_selector: str = "", quiet: bool = False, on_error=None) -> Watcher:
        """Register a watch and return it (`w.stop()` ends it).

        - node_name: a watch of Pods with fieldSelector spec.nodeName=<node_name> (indexed by node).
        - selector / label_selector / field_selector / namespace narrow what the watch sees; an object
          entering the selection arrives as ADDED, leaving it as DELETED.
        - resource_version: None starts from now (the caller has listed already); "0" or "" first
          delivers every current object as ADDED; "N" replays the events after revision N from the watch
          cache's window, or raises WatchExpired (410 Gone) when N is older than the window.
        - quiet: deliveries emit no apiserver.watch trace event.
        """
        if label_selector or field_selector:
            preds = []
            if label_selector:
                preds.append(sel.label_match(label_selector))
            if field_selector:
                if node_name is None and resource == "pods":
                    node_name = sel.single_value(field_selector, "spec.nodeName")
                preds.append(sel.field_match(resource, field_selector))
            if selector is not None:
                preds.append(selector)
            selector = (lambda o, ps=tuple(preds): all(p(o) for p in ps)) if len(preds) > 1 else preds[0]
        if node_name is not None and resource == "pods":
            base = selector
            selector = (lambda o, n=node_name: _node_of(o) == n) if base is None else \
                (lambda o, n=node_name, b=base: _node_of(o) == n and b(o))
        self._order += 1
        w = Watcher(resource, who, selector, on_event, node_name if resource == "pods" else None, self._order,
                    namespace, quiet, on_error)
        w.server = self
        w.spec = dict(resource=resource, who=who, on_event=on_event, selector=selector, node_name=node_name,
                      namespace=namespace, quiet=quiet, on_error=on_error)
        w.last_rv = self.revision  # the stream starts here (a re-established stream resumes from last_rv)
        if resource_version is not None:
            self._replay(w, resource_version)
        if w.node_name is not None:
            self._by_node.setdefault(w.node_name, []).append(w)
        else:
            self._watchers.setdefault(resource, []).append(w)
        return w

    def _remove_watcher(self, w: Watcher) -> None:
        lst = self._by_node.get(w.node_name) if w.node_name is not None else self._watchers.get(w.resource)
        if lst and w in lst:
            lst.remove(w)

    def _replay(self, w: Watcher, resource_version: str) -> None:
        resource = w.resource
        if resource_version in ("", "0"):
            for k in self.keys(registry.prefix(resource, w.namespace)):
                rev, raw = self._hit(k)
                obj = _decode_shared(raw, rev)
                if w.matches(obj):
                    self._deliver(w, "ADDED", raw, k, rev, obj, SharedObject(raw, rev, obj))
            return
        try:
            rv = int(resource_version)
        except ValueError:
            raise WatchExpired(st.bad_request(f"invalid resource version: {resource_version}")) from None
        win = self._window.get(resource)
        # watch_cache.go getAllEventsSinceLocked: the oldest deliverable event is right after the cache's
        # initial list when nothing has been evicted, else the oldest event still in the window.
        if resource in self._evicted and win:
            oldest = win[0][0]
        else:
            oldest = self._start_rev + 1
        if rv < oldest - 1:
            raise WatchExpired(st.expired(f"too old resource version: {rv} ({oldest - 1})"))
        for rev, ev, _t in (win or ()):
            if rev <= rv:
                continue
            self._dispatch_one(w, ev.kv.key, rev, *_texts(ev))

    def _on_etcd_event(self, ev: WatchEvent) -> None:
        if not self.running:
            return
        kv = ev.kv
        key, rev = kv.key, kv.mod_revision
        resource = registry.resource_of(key)
        self._generation[resource] = self._generation.get(resource, 0) + 1
        raw_new, raw_old, old_rev = _texts(ev)
        if resource not in UNCACHED_RESOURCES:
            if raw_new is not None:
                self._cache_put(key, kv)
            else:
                self._cache_del(key)
        # Changed: the next list_shared decodes the new state; the listed one may still serve as `old`.
        listed = self._listed.pop(key, None) if self._listed else None
        if resource == "services":
            self._track_service(raw_new, raw_old)
        win = self._window.get(resource)
        if win is None:
            win = self._window[resource] = deque()
        # etcd's own event, not its texts: etcd keeps it until compaction anyway and may deflate its values
        # meanwhile (a resumed watch reads them back), where a window of texts would keep every one whole.
        win.append((rev, ev, self.env.now))
        if len(win) > WINDOW_MIN:
            horizon = self.env.now - EVENT_FRESH
            while len(win) > WINDOW_MIN and (win[0][2] < horizon or len(win) > WINDOW_MAX):
                win.popleft()
                self._evicted.add(resource)
        plain = self._watchers.get(resource)
        if not plain and not (resource == "pods" and self._by_node):
            return
        candidates = list(plain) if plain else []
        if resource == "pods" and self._by_node:
            nodes = {_raw_node(raw_new), _raw_node(raw_old)} - {None, ""}
            for n in sorted(nodes):
                candidates += self._by_node.get(n, ())
            candidates.sort(key=lambda w: w.order)
        # The decoded old and new objects are only read (selectors, trace refs). The previous write's new
        # object is this write's old one: keep a few decoded. Every watcher is handed the same decoded
        # object (SharedObject): the new state, or for a deletion the last state at the deletion's revision.
        new = old = None
        if any(w.selector is not None or w.namespace for w in candidates):
            if raw_old is not None:
                old = (listed[1] if listed is not None and listed[0] == old_rev
                       else self._decoded(key, old_rev, raw_old))
            if raw_new is not None:
                new = self._decoded(key, rev, raw_new)
        shared_new = SharedObject(raw_new, rev, new) if raw_new is not None else None
        shared_old = SharedObject(raw_old, rev) if raw_old is not None else None
        for w in candidates:
            self._dispatch_one(w, key, rev, raw_new, raw_old, old_rev, new, old, shared_new, shared_old)

    def _decoded(self, key: str, rev: int, raw: str) -> dict:
        memo = self._recent
        hit = memo.get(key)
        if hit is not None and hit[0] == rev:
            return hit[1]
        w = self._written.pop(key, None) if self._written else None
        if w is not None and w[0] is raw:
            obj = w[1]
            obj["metadata"]["resourceVersion"] = str(rev)   # what _decode sets: the same object, no decode
            if READ_ONLY_SHARED:
                obj = codec.read_only(obj)
        else:
            obj = _decode_shared(raw, rev)
        memo.pop(key, None)
        memo[key] = (rev, obj)
        if len(memo) > 1024:
            del memo[next(iter(memo))]
        return obj

    def _dispatch_one(self, w: Watcher, key: str, rev: int, raw_new, raw_old, old_rev: int,
                      new: dict | None = None, old: dict | None = None,
                      shared_new: SharedObject | None = None, shared_old: SharedObject | None = None) -> None:
        if not w.active:
            return
        if w.selector is None and not w.namespace:
            was, now = raw_old is not None, raw_new is not None
        else:
            if new is None and raw_new is not None:
                new = _decode_shared(raw_new, rev)
            if old is None and raw_old is not None:
                old = _decode_shared(raw_old, old_rev)
            was, now = w.matches(old), w.matches(new)
        # A watch with a selector sees an object entering the selection as ADDED and leaving it as
        # DELETED (k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go convertToWatchEvent). A deleted
        # object arrives in its last state, with the deletion's revision as resourceVersion.
        if now and not was:
            kind, raw = "ADDED", raw_new
        elif now and was:
            kind, raw = "MODIFIED", raw_new
        elif was and not now:
            kind, raw = "DELETED", raw_old if raw_new is None else raw_new
        else:
            return
        if raw is raw_new:
            shared = shared_new if shared_new is not None else SharedObject(raw, rev, new)
        else:
            shared = shared_old if shared_old is not None else SharedObject(raw, rev)
        self._deliver(w, kind, raw, key, rev, new if raw is raw_new else old, shared)

    def _deliver(self, w: Watcher, kind: str, raw: str, key: str, rev: int, obj: dict | None,
                 shared: SharedObject) -> None:
        quiet = w.quiet or key in self._quiet_keys

        def push() -> None:
            if not w.active or not self.running:
                return
            w.last_rv = rev
            if not quiet and self.tracer.enabled:
                self.tracer.emit(COMPONENT, self.instance, "apiserver.watch",
                                 f"watch {kind} {key} -> {w.who['instance']}",
                                 {"resource": w.resource, "event": kind, "key": key, "resourceVersion": str(rev)},
                                 to=w.who, obj=registry.objref(obj if obj is not None else shared.get()))
            w.on_event(kind, shared.get())  # one decoded object for every watcher: read-only to them

        at = max(self.env.now + self.rng.uniform(0.004, 0.015), w.next_t)
        w.next_t = at
        self.env.schedule(at - self.env.now, push)

    # ---- Service IP and port allocation (pkg/registry/core/service/ipallocator, portallocator) ------
    def _track_service(self, raw_new: str | None, raw_old: str | None) -> None:
        for raw, add in ((raw_old, False), (raw_new, True)):
            if raw is None:
                continue
            spec = codec.loads(raw).get("spec", {})
            ips = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"]
            ports = [p["nodePort"] for p in spec.get("ports") or [] if p.get("nodePort")]
            for ip in ips:
                (self._ips.add if add else self._ips.discard)(ip)
            for p in ports:
                (self._ports.add if add else self._ports.discard)(p)

    def _allocate_ip(self) -> str | None:
        """bitmap.AllocateNext with randomScanStrategyWithOffset: the range without network and broadcast
        addresses; a random start in the upper (dynamic) block, scanning forward, then the lower block of
        min(max(16, size/16), 256) addresses reserved for static allocation (ipallocator calculateRangeOffset)."""
        base = int(SERVICE_CIDR.network_address) + 1
        size = SERVICE_CIDR.num_addresses - 2
        offset = min(max(16, size // 16), 256)
        return self._scan(size, offset, lambda i: str(ipaddress.ip_address(base + i)), self._ips)

    def _allocate_port(self) -> int | None:
        size = NODE_PORTS[1] - NODE_PORTS[0] + 1
        offset = min(max(16, size // 32), 128)  # portallocator calculateRangeOffset
        return self._scan(size, offset, lambda i: NODE_PORTS[0] + i, self._ports)

    def _scan(self, size: int, offset: int, at, used: set):
        start = offset + self.rng.randrange(size - offset)
        for i in list(range(start, size)) + list(range(offset, start)) + list(range(0, offset)):
            v = at(i)
            if v not in used:
                return v
        return None

    def _allocate_service(self, svc: dict, old: dict | None) -> list[dict]:
        """Allocate spec.clusterIP(s) and node ports; returns field errors (422) when a requested value
        is taken or out of range."""
        spec = svc.setdefault("spec", {})
        errs: list[dict] = []
        stype = spec.get("type") or "ClusterIP"
        old_spec = (old or {}).get("spec", {})
        if stype != "ExternalName":
            ip = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
            if old is not None and old_spec.get("clusterIP") and not ip:
                ip = old_spec["clusterIP"]
            elif ip and ip != "None" and (old is None or ip != old_spec.get("clusterIP")):
                try:
                    inside = ipaddress.ip_address(ip) in SERVICE_CIDR
                except ValueError:
                    inside = False
                if not inside:
                    errs.append({"reason": "FieldValueInvalid", "field": "spec.clusterIPs",
                                 "message": f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}'})
                elif ip in self._ips:
                    errs.append({"reason": "FieldValueInvalid", "field": "spec.clusterIPs",
                                 "message": f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: provided IP is already allocated'})
            elif not ip:
                ip = self._allocate_ip()
            if ip:
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
                if ip != "None":
                    spec.setdefault("ipFamilies", ["IPv4"])
                    spec.setdefault("ipFamilyPolicy", "SingleStack")
        if stype in ("NodePort", "LoadBalancer"):
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports") or []}
            taken = set()
            for i, p in enumerate(spec.get("ports") or []):
                np = p.get("nodePort")
                prev = old_ports.get((p.get("port"), p.get("protocol", "TCP")))
                if np:
                    if np != prev and (np in self._ports or np in taken):
                        errs.append({"reason": "FieldValueInvalid", "field": f"spec.ports[{i}].nodePort",
                                     "message": f"Invalid value: {np}: provided port is already allocated"})
                    elif not NODE_PORTS[0] <= np <= NODE_PORTS[1]:
                        errs.append({"reason": "FieldValueInvalid", "field": f"spec.ports[{i}].nodePort",
                                     "message": f"Invalid value: {np}: provided port is not in the valid range. The range of valid ports is {NODE_PORTS[0]}-{NODE_PORTS[1]}"})
                else:
                    np = prev or self._allocate_port()
                    while np in taken:
                        np = self._allocate_port()
                    p["nodePort"] = np
                taken.add(np)
        return errs

    # ---- requests -----------------------------------------------------------------------------------
    def handle(self, req: Request) -> Future:
        """Serve a request; the future resolves with a Response."""
        if not self.running:
            fut = self.env.future()
            fut.resolve(Response(503, None, st.service_unavailable(f"apiserver {self.instance} is not running"), None))
            return fut
        if self.audit is not None and not req.quiet:
            return self.env.process(self._audited(req))
        return self.env.process(self._serve(req))

    def _audited(self, req: Request) -> Generator:
        """_serve, with the request's audit event written when its response is complete (WithAudit)."""
        if not req.audit_id:
            req.audit_id = ids.uid(self._audit_ids)
        req.audit_received = clock.rfc3339_micro(self.env.now)
        resp = yield from self._serve(req)
        entry, req.audit_received = req.audit, ""
        # (audit_by_caller: the HTTP front, dashboard/kubeapi, completes it with what it writes back - a Table
        # for kubectl get)
        if entry is not None and not req.audit_by_caller:
            req.audit = None
            info = registry.RESOURCES.get(req.resource)
            body = binding_success() if req.subresource == "binding" and resp.ok else resp.body
            self.audit.write(entry, "ResponseComplete", clock.rfc3339_micro(self.env.now), resp.code,
                             status=resp.status, response=body,
                             api_version=(info.version if info else "v1") if entry.object_ref is not None else "")
        return resp

    def _audit_begin(self, req: Request, attrs: Attributes) -> None:
        if req.source_ip or req.user_agent:
            ips, agent = [req.source_ip] if req.source_ip else [], req.user_agent
        elif self.audit_client is not None:
            ips, agent = self.audit_client(req.client)
        else:
            ips, agent = [], ""
        uri = req.request_uri or req.path
        req.audit = self.audit.begin(req.audit_id, attrs, uri, ips, agent, req.audit_received)
        if req.audit is not None and (req.verb != "create" or req.subresource) and req.body is not None:
            self.audit.request_object(req.audit, req.body)   # a create's, once decoded with its defaults

    def _serve(self, req: Request) -> Generator:
        traced = req.traced and not req.quiet
        # Network + TLS. In-cluster clients keep an HTTP/2 connection open; kubectl opens a new one.
        yield self.rng.uniform(0.008, 0.02) if traced else self.rng.uniform(0.002, 0.006)
        # 1. authentication
        an = self.authenticator.authenticate(req.credential)
        if traced:
            u = an.user
            self.tracer.emit(COMPONENT, self.instance, "apiserver.authn",
                             f"authenticated {u.name!r} via {u.authenticator}" if an.ok else "authentication failed: 401",
                             {"authenticator": u.authenticator if u else (req.credential.kind if req.credential else "anonymous"),
                              "user": u.name if (u and an.ok) else "", "groups": list(u.groups) if (u and an.ok) else [],
                              "decision": "allow" if an.ok else "deny"})
        if not an.ok:
            return self._fail(req, st.unauthorized(), None)
        user: UserInfo = an.user
        if traced:  # (the checks take microseconds; the pause is there so a class can follow them)
            yield self.rng.uniform(0.005, 0.012)
        # 2. authorization
        # A create is a POST to the collection: the name is in the body, not in the URL, so authorization
        # (and the Forbidden message) sees no name (RequestInfoFactory in k8s.io/apiserver/pkg/endpoints/request).
        url_name = "" if (req.verb == "create" and not req.subresource) else req.name
        attrs = Attributes(user, req.verb, req.resource, req.subresource, req.namespace, url_name, req.api_group)
        dec = self.authorizer.authorize(attrs)
        if req.audit_received:
            self._audit_begin(req, attrs)
            audit_mod.note_decision(req.audit, dec)
        if traced:
            self.tracer.emit(COMPONENT, self.instance, "apiserver.authz",
                             f"{dec.authorizer or 'RBAC'}: {'allowed' if dec.allowed else 'forbidden'} {user.name} {req.verb} {req.resource}",
                             {"authorizer": dec.authorizer or "RBAC", "user": user.name, "verb": req.verb,
                              "resource": req.resource + (f"/{req.subresource}" if req.subresource else ""),
                              "namespace": req.namespace, "decision": "allow" if dec.allowed else "deny",
                              "reason": dec.reason or "no RBAC rule allows this (and the Node authorizer has no opinion)"})
        if not dec.allowed:
            msg = st.forbidden_message(user.name, req.verb, req.resource, req.subresource, req.api_group, req.namespace)
            if dec.reason:
                msg += ": " + dec.reason
            return self._fail(req, st.forbidden(req.resource, req.api_group, url_name, msg), user)
        if not traced:
            self._announce(req, user)
        # 3. the handler
        info = registry.RESOURCES.get(req.resource)
        if info is None or (req.subresource and req.subresource not in info.subresources):
            return self._fail(req, st.not_found_resource(), user)
        if req.resource in registry.VIRTUAL:
            if req.verb != "create":
                return self._fail(req, st.method_not_allowed(), user)
            return self._ssar(req, user)
        verb = req.verb
        if verb == "get":
            return self._get(req, user, info)
        if verb == "list":
            return self._list(req, user, info)
        if verb == "create" and req.subresource == "binding":
            return (yield from self._bind_pod(req, user))
        if verb == "create" and req.subresource == "eviction":
            return (yield from self._delete(req, user, info, eviction=True))
        if verb == "create" and not req.subresource:
            return (yield from self._create(req, user, info, req.body))
        if verb in ("update", "patch"):
            return (yield from self._update(req, user, info))
        if verb == "delete" and not req.subresource:
            return (yield from self._delete(req, user, info))
        if verb == "deletecollection" and not req.subresource:
            return (yield from self._delete_collection(req, user, info))
        return self._fail(req, st.method_not_allowed(), user)

    # -- responses and compact tracing --
    def _fail(self, req: Request, status: dict, user: UserInfo | None) -> Response:
        code = status["code"]
        if req.quiet:
            pass
        elif req.traced:
            self.tracer.emit(COMPONENT, self.instance, "apiserver.response",
                             f"{code} {status.get('reason', 'InternalError')}: {status['message']}",
                             {"code": code, "status": status, "resourceVersion": None}, to=req.client)
        else:
            self._announce(req, user)
            self._answer(req, code, status, None)
        return Response(code, None, status, None)

    def _ok(self, req: Request, code: int, body: dict | None, rv: str | None, obj: dict | None = None,
            answer: dict | None = None) -> Response:
        """`answer`: extra data for the response event, and a word for its summary, when the body itself is
        the answer and nothing is stored (a SelfSubjectAccessReview's status.allowed and status.reason)."""
        if not self.running:
            # The instance stopped while serving: the client's connection breaks (what was committed stays).
            return Response(503, None, st.service_unavailable(f"apiserver {self.instance} stopped while serving the request"), None)
        if req.quiet or not self.tracer.enabled:
            pass
        elif req.traced:
            info = registry.RESOURCES.get(req.resource)
            name = (obj or {}).get("metadata", {}).get("name") or req.name
            kind = info.kind.lower() if info else req.resource
            what = f"{kind}/{name}" if name else req.resource
            self.tracer.emit(COMPONENT, self.instance, "apiserver.response",
                             f"{code} {_REASON.get(code, 'OK')} {what}" + _answer_word(answer),
                             {"code": code, "status": None, "resourceVersion": rv, **(answer or {})}, to=req.client,
                             obj=registry.objref(obj) if obj else None)
        else:
            self._answer(req, code, None, rv, registry.objref(obj) if obj else None, answer)
        return Response(code, body, None, rv)

    # The request arrow goes out when the request arrives; the response, with its real code, only after etcd
    # has answered (the API server replies once the write is committed, never before).
    def _announce(self, req: Request, user: UserInfo | None) -> None:
        if req.announced or req.quiet or req.traced or not self.tracer.enabled:
            return
        req.announced = True
        self.tracer.emit(req.client["component"], req.client["instance"], "apiserver.request",
                         f"{req.method} {req.path}",
                         {"method": req.method, "path": req.path, "user": user.name if user else ""}, to=self.me)

    def _answer(self, req: Request, code: int, status: dict | None, rv: str | None, obj: dict | None = None,
                answer: dict | None = None) -> None:
        if not self.tracer.enabled:
            return
        summary = (f"{code} {status.get('reason', 'InternalError')}: {status['message']}" if status
                   else f"{code} {req.method} {req.path}" + _answer_word(answer))
        self.tracer.emit(COMPONENT, self.instance, "apiserver.response", summary,
                         {"code": code, "status": status, "resourceVersion": rv, **(answer or {})}, to=req.client, obj=obj)

    def _emit_admission(self, req: Request, phase: str, plugin: str, decision: str, changes: list[str], notes: list[str]) -> None:
        if not req.traced or req.quiet:
            return
        summary = f"{phase} admission {plugin}: {decision}" + (f" ({len(changes)} change(s))" if phase == "mutating" and changes else "")
        self.tracer.emit(COMPONENT, self.instance, "apiserver.admission", summary,
                         {"phase": phase, "plugin": plugin, "decision": decision, "changes": changes, "notes": notes})

    def _emit_storage(self, req: Request, op: str, key: str, obj: dict | None) -> None:
        # Event objects are written by recorders in the background: no storage arrow, to keep the story readable.
        if req.quiet or (not req.traced and req.resource == "events") or not self.tracer.enabled:
            return
        self.tracer.emit(COMPONENT, self.instance, "apiserver.storage", f"{op} {key}", {"op": op, "key": key, "path": req.path},
                         to=ref("etcd", self.etcd.leader or "etcd"), obj=registry.objref(obj) if obj else None)

    # -- etcd --
    def _txn(self, req: Request, compares, success, failure, obj) -> Future:
        kw = {"client": self.me, "obj": registry.objref(obj) if obj and self.tracer.enabled else None}   # (for events)
        if self._txn_quiet:
            kw["quiet"] = req.quiet
        if self._txn_member and self.etcd_member:
            kw["member"] = self.etcd_member
        keys = [op.key for op in success if op.kind in ("put", "delete")] if req.quiet else ()
        if keys:
            q = self._quiet_keys
            for k in keys:
                q[k] = q.get(k, 0) + 1
        fut = self.etcd.txn(list(compares), list(success), list(failure), **kw)
        if keys:
            def done(_v, keys=keys, q=q):
                for k in keys:
                    q[k] -= 1
                    if q[k] <= 0:
                        del q[k]
            fut.add_waiter(done)
        return fut

    def _etcd_failed(self, req: Request, resp, user: UserInfo) -> Response | None:
        """An etcd error (no quorum, timeout): what ErrorToAPIStatus makes of a non-Status error."""
        if isinstance(resp, Exception):
            return self._fail(req, st.internal_error(getattr(resp, "message", None) or str(resp)), user)
        return None

    # -- admission --
    def _admit(self, req: Request, a, obj: dict) -> Generator:
        """Mutating admission, in AllOrderedPlugins order; returns a failure Status or None."""
        for plugin in self.admission:
            if not (plugin.MUTATING and plugin.handles(a)):
                continue
            if req.traced:
                yield self.rng.uniform(0.012, 0.03)
            try:
                changes = plugin.admit(a, obj, self, self.rng)
            except adm.AdmissionError as e:
                self._emit_admission(req, "mutating", plugin.NAME, "deny", [], [e.status["message"]])
                return e.status
            self._emit_admission(req, "mutating", plugin.NAME, "admit", changes or [], [])
        return None

    def _admit_validate(self, req: Request, a, obj: dict) -> Generator:
        for plugin in self.admission:
            if not (plugin.VALIDATING and plugin.handles(a)):
                continue
            if req.traced:
                yield self.rng.uniform(0.008, 0.02)
            try:
                notes = plugin.validate(a, obj, self)
            except adm.AdmissionError as e:
                self._emit_admission(req, "validating", plugin.NAME, "deny", [], [e.status["message"]])
                self._audit_annotations(req, a)
                return e.status
            # A validating plugin cannot change the object: what it reports are notes.
            self._emit_admission(req, "validating", plugin.NAME, "admit", [], notes or [])
        self._audit_annotations(req, a)
        return None

    @staticmethod
    def _audit_annotations(req: Request, a) -> None:
        if req.audit is not None and getattr(a, "annotations", None):
            req.audit.annotations.update(a.annotations)

    def _validation(self, req: Request, info: registry.ResourceInfo, obj: dict, old: dict | None) -> dict | None:
        errs = _validate(info.kind, obj, old)
        if req.traced and not req.quiet:
            self.tracer.emit(COMPONENT, self.instance, "apiserver.validation",
                             "object is valid" if not errs else f"invalid: {len(errs)} error(s)",
                             {"decision": "allow" if not errs else "deny", "errors": errs}, obj=registry.objref(obj))
        if errs:
            return st.invalid(info.kind, obj.get("metadata", {}).get("name", ""), errs)
        return None

    @staticmethod
    def _extra_writes(a) -> tuple[list, list]:
        """Objects an admission plugin must write with the main object (ResourceQuota's status.used):
        compare-and-swap on their resourceVersion, in the same transaction (never half-written)."""
        compares, ops = [], []
        for o in getattr(a, "writes", None) or ():
            m = o["metadata"]
            res = registry.KIND_TO_RESOURCE.get(o.get("kind", ""), "resourcequotas")
            k = registry.key(res, m.get("namespace", ""), m["name"])
            compares.append(Compare(k, "mod_revision", "==", int(m.get("resourceVersion") or 0)))
            ops.append(Op.put(k, _encode(o)))
        return compares, ops

    def _create_txn(self, req: Request, user: UserInfo, a, key: str, obj: dict) -> Generator:
        """The create's transaction, retried after a lost quota CAS (QUOTA_RETRIES); returns the TxnResponse,
        or a failure Response."""
        for retries_left in range(QUOTA_RETRIES, -1, -1):
            xc, xops = self._extra_writes(a)
            resp = yield self._txn(req, [Compare(key, "mod_revision", "==", 0)] + xc, xops + [Op.put(key, _encode(obj))],
                                   [Op.get(key)], obj)
            failed = self._etcd_failed(req, resp, user)
            if failed is not None:
                return failed
            if resp.succeeded or (resp.responses and resp.responses[0] is not None) or not getattr(a, "writes", None):
                break
            # the main key is free: an admission (quota) write lost its race
            lost = a.writes[0].get("metadata", {}).get("name", "")
            if retries_left == 0:
                return self._fail(req, st.conflict("resourcequotas", lost), user)
            err = self._recheck_quota(req, a, obj)
            if err is not None:
                return self._fail(req, err, user)
        return resp

    def _recheck_quota(self, req: Request, a, obj: dict) -> dict | None:
        """checkQuotas' retry: drop the lost quota writes and run the ResourceQuota plugin again against the
        quotas as the cache now has them (it may now refuse with the exceeded-quota 403)."""
        a.writes.clear()
        for plugin in self.admission:
            if plugin.NAME != "ResourceQuota" or not (plugin.VALIDATING and plugin.handles(a)):
                continue
            try:
                notes = plugin.validate(a, obj, self)
            except adm.AdmissionError as e:
                self._emit_admission(req, "validating", plugin.NAME, "deny", [], [e.status["message"]])
                return e.status
            self._emit_admission(req, "validating", plugin.NAME, "admit", [], ["retry after a quota conflict"] + (notes or []))
        return None

    def _quota_lock(self, ns: str) -> Generator:
        """Wait for the namespace's quota turn; returns whether it had to wait."""
        q = self._quota_queue.setdefault(ns, [])
        if not q:
            q.append(None)
            return False
        fut = self.env.future()
        q.append(fut)
        yield fut
        return True

    def _quota_unlock(self, ns: str) -> None:
        q = self._quota_queue.get(ns)
        if not q:
            return
        q.pop(0)
        if q:  # hand the turn to the next waiter (it now holds it: None at the head)
            nxt, q[0] = q[0], None
            nxt.resolve(True)
        else:
            del self._quota_queue[ns]

    # ---- get / list ---------------------------------------------------------------------------------
    def _get(self, req: Request, user: UserInfo, info: registry.ResourceInfo) -> Response:
        key = registry.key(req.resource, req.namespace, req.name)
        obj = self.get(key)
        if obj is None:
            return self._fail(req, st.not_found(req.resource, req.name, info.group), user)
        if req.subresource == "scale":
            obj = _scale_of(obj)
        return self._ok(req, 200, obj, obj["metadata"]["resourceVersion"], obj)

    def _list(self, req: Request, user: UserInfo, info: registry.ResourceInfo) -> Response:
        q = req.query or {}
        try:
            lsel = sel.label_match(q["labelSelector"]) if q.get("labelSelector") else None
            fsel = sel.field_match(req.resource, q["fieldSelector"]) if q.get("fieldSelector") else None
        except sel.SelectorError as e:
            return self._fail(req, st.bad_request(str(e)), user)
        rv = q.get("resourceVersion")
        if rv not in (None, "", "0"):
            try:
                n = int(rv)
            except ValueError:
                return self._fail(req, st.bad_request(f"invalid resource version: {rv}"), user)
            if n > self.revision:
                return self._fail(req, st._status(504, "Timeout", f"Too large resource version: {n}, current: {self.revision}",
                                                  {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                                                   "retryAfterSeconds": 1}), user)
        items = []
        hit = self._hit
        for k in self.keys(registry.prefix(req.resource, req.namespace if info.namespaced else "")):
            r, raw = hit(k)
            o = _decode(raw, r)
            if (lsel is None or lsel(o)) and (fsel is None or fsel(o)):
                items.append(o)
        rv_now = str(self.revision)
        body = {"kind": info.kind + "List", "apiVersion": info.api_version, "metadata": {"resourceVersion": rv_now},
                "items": items}
        return self._ok(req, 200, body, rv_now)

    # ---- SelfSubjectAccessReview --------------------------------------------------------------------
    def _ssar(self, req: Request, user: UserInfo) -> Response:
        body = _clone(req.body or {})
        try:
            out = authz_mod.self_subject_access_review(self.authorizer, user, body)
        except ValueError as e:
            # pkg/registry/authorization/selfsubjectaccessreview/rest.go Create: ValidateSelfSubjectAccessReview
            # errors -> apierrors.NewInvalid(authorizationapi.Kind(r.Kind), "", errs).
            causes = getattr(e, "causes", None) or [{"reason": "FieldValueInvalid", "field": "spec", "message": str(e)}]
            return self._fail(req, st.invalid("SelfSubjectAccessReview", "", causes, group="authorization.k8s.io"), user)
        out.setdefault("metadata", {})
        out["metadata"].setdefault("creationTimestamp", None)
        # Nothing is stored: the review's status is the whole answer (what `kubectl auth can-i` prints as
        # yes / no), so the response event carries it.
        review = out.get("status") or {}
        return self._ok(req, 201, out, None, answer={"allowed": bool(review.get("allowed")),
                                                     "reason": review.get("reason", "")})

    # ---- create ----------------------------------------------------------------------------------------
    def _create(self, req: Request, user: UserInfo, info: registry.ResourceInfo, body) -> Generator:
        if not isinstance(body, dict):
            return self._fail(req, st.bad_request("the body of the request was in an unknown format"), user)
        bad = _decode_error(info, body)
        if bad is not None:
            return self._fail(req, bad, user)
        obj = body if req.body_owned else _clone(body)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if info.namespaced:
            ns = meta.get("namespace") or req.namespace
            if req.namespace and meta.get("namespace") and meta["namespace"] != req.namespace:
                return self._fail(req, st.bad_request("the namespace of the provided object does not match the namespace sent on the request"), user)
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
            ns = ""
        # etcd3 store.Create refuses an object that carries a resourceVersion.
        if meta.get("resourceVersion"):
            return self._fail(req, st.internal_error("resourceVersion should not be set on objects to be created"), user)
        obj["kind"], obj["apiVersion"] = info.kind, info.api_version
        # generateName: names.SimpleNameGenerator (base truncated to 58 characters + 5 random ones).
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"][:58] + ids.rand_string(self.rng, 5)
        name = meta.get("name", "")
        a = _attrs(operation="CREATE", resource=req.resource, subresource="", namespace=ns, name=name,
                   user=user.name, kind=info.kind, old=None, writes=[], group=info.group)
        _set_defaults(info.kind, obj)  # decoding applies defaults before admission sees the object
        if req.audit is not None:
            # create.go: LogRequestObject right after decoding (defaults applied; a namespace the body did not
            # name is not filled in yet)
            sent = obj if (body.get("metadata") or {}).get("namespace") or "namespace" not in meta else \
                {**obj, "metadata": {k: v for k, v in meta.items() if k != "namespace"}}
            self.audit.request_object(req.audit, sent)
        err = yield from self._admit(req, a, obj)
        if err is not None:
            return self._fail(req, err, user)
        # Store.Create: FillObjectMetaSystemFields, then the strategy's PrepareForCreate.
        if req.traced:
            yield self.rng.uniform(0.01, 0.02)
        for f in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(f, None)
        meta["uid"] = ids.uid(self.rng)
        meta["creationTimestamp"] = clock.rfc3339(self.env.now)
        errs = self._prepare_for_create(req.resource, info, obj)
        if errs:
            return self._fail(req, st.invalid(info.kind, name, errs), user)
        fail = self._validation(req, info, obj, None)
        if fail is not None:
            return self._fail(req, fail, user)
        err = yield from self._admit_validate(req, a, obj)
        if err is not None:
            return self._fail(req, err, user)
        key = registry.key(req.resource, ns, name)
        obj = _ordered(obj)
        if _dry_run(req):
            return self._ok(req, 201, obj, None, obj)
        # GenericStore.Create -> etcd3 store.Create: Txn(If(mod_revision(key) == 0)).Then(Put(key)).
        self._emit_storage(req, "create", key, obj)
        # The quota evaluator (plugin/pkg/admission/resourcequota/controller.go checkAttributes ->
        # checkQuotas(quotas, admissionAttributes, 3)): when the CAS on a quota's status fails, it re-reads
        # the quotas from its cache and re-checks the request - 3 retries - before giving up with the
        # conflict. Here the quota writes share the main object's transaction, so the whole txn is retried.
        # Within one kube-apiserver the evaluator handles a namespace's requests one batch at a time (its
        # work queue never gives one namespace to two workers), so requests that charge a quota are
        # serialized per namespace: one that waited is re-checked against the quotas as they are now.
        locked = False
        if getattr(a, "writes", None):
            waited = yield from self._quota_lock(ns)
            locked = True
            if waited:
                err = self._recheck_quota(req, a, obj)
                if err is not None:
                    self._quota_unlock(ns)
                    return self._fail(req, err, user)
        try:
            resp = yield from self._create_txn(req, user, a, key, obj)
        finally:
            if locked:
                self._quota_unlock(ns)
        if isinstance(resp, Response):
            return resp
        if not resp.succeeded:
            existing = resp.responses[0] if resp.responses else None
            if existing is None:
                return self._fail(req, st.conflict(req.resource, name, group=info.group), user)
            status = st.already_exists(req.resource, name, info.group)
            if codec.loads(existing.value).get("metadata", {}).get("deletionTimestamp"):
                status["message"] = "object is being deleted: " + status["message"]
            return self._fail(req, status, user)
        rv = str(resp.revision)
        obj["metadata"]["resourceVersion"] = rv
        if req.traced:
            yield self.rng.uniform(0.003, 0.008)
        out = self._ok(req, 201, obj, rv, obj)
        out.warnings = list(getattr(a, "warnings", None) or ())
        return out

    def _prepare_for_create(self, resource: str, info: registry.ResourceInfo, obj: dict) -> list[dict]:
        """The strategies' PrepareForCreate (pkg/registry/<group>/<resource>/strategy.go)."""
        meta = obj["metadata"]
        meta.pop("generation", None)
        if info.generation:
            meta["generation"] = 1
        if resource == "pods":
            # podStrategy.PrepareForCreate: status reset to Pending with the QoS class.
            obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}
        elif resource == "namespaces":
            # namespaceStrategy.PrepareForCreate: phase Active, the "kubernetes" finalizer.
            spec = obj.setdefault("spec", {})
            fins = spec.get("finalizers") or []
            if "kubernetes" not in fins:
                fins.append("kubernetes")
            spec["finalizers"] = fins
            obj["status"] = {"phase": "Active"}
        elif resource == "services":
            obj["status"] = {"loadBalancer": {}}
            return self._allocate_service(obj, None)
        elif "status" in info.subresources and resource not in ("nodes", "persistentvolumes"):
            obj["status"] = {}
        return []

    # ---- update / patch ----------------------------------------------------------------------------------
    def _update(self, req: Request, user: UserInfo, info: registry.ResourceInfo) -> Generator:
        """PUT and PATCH, on the object or its status/scale/finalize subresource: Store.Update, i.e.
        GuaranteedUpdate: read, compute the new object, Txn(If(mod_revision == read revision)).Then(Put);
        re-read and retry on a conflict unless the client named a resourceVersion (then 409)."""
        key = registry.key(req.resource, req.namespace, req.name)
        is_patch = req.verb == "patch"
        body = req.body
        if not is_patch:
            if not isinstance(body, dict):
                return self._fail(req, st.bad_request("the body of the request was in an unknown format"), user)
            bname = (body.get("metadata") or {}).get("name")
            if req.subresource != "scale" and bname and bname != req.name:
                return self._fail(req, st.bad_request(f"the name of the object ({bname}) does not match the name on the URL ({req.name})"), user)
            if req.subresource != "scale":
                bad = _decode_error(info, body)
                if bad is not None:
                    return self._fail(req, bad, user)
        fresh = False
        # GuaranteedUpdate retries for as long as its compare fails (storage/etcd3/store.go has no limit); the
        # bound here only keeps a bug from looping forever.
        for _attempt in range(100):
            if fresh:
                kv = self.etcd.store.get(key)
                cur = _decode(kv.value, kv.mod_revision) if kv is not None else None
            else:
                cur = self.get(key)
            if cur is None:
                if not is_patch and not req.subresource and info.create_on_update:
                    return (yield from self._create(req, user, info, body))
                return self._fail(req, st.not_found(req.resource, req.name, info.group), user)
            cur_rv = cur["metadata"]["resourceVersion"]
            # The object the client sends (PUT), or the current one with the patch applied (PATCH).
            if req.subresource == "scale":
                base = _scale_of(cur)
            else:
                base = cur
            if is_patch:
                try:
                    sent = patch_mod.apply(req.patch_type or "strategic", base, body)
                except patch_mod.PatchError as e:
                    code = e.code
                    status = st.bad_request(str(e)) if code == 400 else (
                        st._status(415, "UnsupportedMediaType", str(e)) if code == 415 else
                        st._status(422, "Invalid", str(e)))
                    return self._fail(req, status, user)
                if not isinstance(sent, dict):
                    return self._fail(req, st.bad_request("the patched object is not an object"), user)
            else:
                sent = _clone(body)
            smeta = sent.get("metadata")
            if not isinstance(smeta, dict):
                smeta = sent["metadata"] = {}
            want_rv = smeta.get("resourceVersion") or ""
            if want_rv and want_rv != cur_rv:
                return self._fail(req, st.conflict(req.resource, req.name, group=info.group), user)
            if req.subresource == "scale":
                replicas = (sent.get("spec") or {}).get("replicas")
                new = _clone(cur)
                new.setdefault("spec", {})["replicas"] = replicas
            elif req.subresource == "status":
                # statusStrategy.PrepareForUpdate: only status changes (labels, spec, ... are the old ones).
                # (A shallow copy: nothing below is changed in place.)
                new = dict(cur)
                new["status"] = sent.get("status", {})
            elif req.subresource == "finalize":
                new = dict(cur)
                new["spec"] = dict(cur.get("spec") or {}, finalizers=(sent.get("spec") or {}).get("finalizers") or [])
            else:
                # A patch result shares unchanged parts with `cur`; defaulting works in place, so copy.
                new = _clone(sent) if is_patch else sent
                _set_defaults(info.kind, new)
                new["kind"], new["apiVersion"] = info.kind, info.api_version
                nm = new["metadata"]
                nm["name"] = req.name
                if info.namespaced:
                    nm["namespace"] = req.namespace
                # rest.BeforeUpdate: uid, creationTimestamp, deletion fields and generation are the server's.
                for f in _SYSTEM_META:
                    if f in cur["metadata"]:
                        nm[f] = cur["metadata"][f]
                    else:
                        nm.pop(f, None)
                if "status" in info.subresources and req.resource not in ("namespaces",):
                    # PrepareForUpdate: the main resource ignores status changes.
                    if "status" in cur:
                        new["status"] = cur["status"]
                    else:
                        new.pop("status", None)
                elif req.resource == "namespaces":
                    new["status"] = cur.get("status", {})
                    new.setdefault("spec", {})["finalizers"] = cur.get("spec", {}).get("finalizers", [])
            nm = new["metadata"] = dict(new["metadata"])
            nm["resourceVersion"] = cur_rv
            if info.generation and _generation_fields(req.resource, cur) != _generation_fields(req.resource, new):
                nm["generation"] = int(cur["metadata"].get("generation", 1)) + 1
            if req.resource == "services" and not req.subresource:
                errs = self._allocate_service(new, cur)
                if errs:
                    return self._fail(req, st.invalid(info.kind, req.name, errs), user)
            a = _attrs(operation="UPDATE", resource=req.resource, subresource=req.subresource, namespace=req.namespace,
                       name=req.name, user=user.name, kind=info.kind, old=cur, writes=[], group=info.group)
            err = yield from self._admit(req, a, new)
            if err is not None:
                return self._fail(req, err, user)
            fail = self._validation(req, info, new, cur)
            if fail is not None:
                return self._fail(req, fail, user)
            err = yield from self._admit_validate(req, a, new)
            if err is not None:
                return self._fail(req, err, user)
            code = 201 if req.subresource == "binding" else 200
            out_of = (lambda o: _scale_of(o)) if req.subresource == "scale" else (lambda o: o)
            # GuaranteedUpdate writes nothing when the object did not change (etcd3 store.go: "if
            # !origState.stale && bytes.Equal(data, origState.data)").
            if _same(new, cur) and not getattr(a, "writes", None):
                return self._ok(req, code, out_of(cur), cur_rv, cur)
            if _dry_run(req):
                return self._ok(req, code, out_of(new), cur_rv, new)
            # ShouldDeleteDuringUpdate: the last finalizer of an object being deleted (grace 0) is gone.
            nm = new["metadata"]
            if nm.get("deletionTimestamp") and not nm.get("finalizers") and nm.get("deletionGracePeriodSeconds") == 0 \
                    and not (req.resource == "namespaces" and new.get("spec", {}).get("finalizers")):
                self._emit_storage(req, "delete", key, new)
                resp = yield self._txn(req, [Compare(key, "mod_revision", "==", int(cur_rv))], [Op.delete(key)], [], new)
                failed = self._etcd_failed(req, resp, user)
                if failed is not None:
                    return failed
                if resp.succeeded:
                    return self._ok(req, code, out_of(new), str(resp.revision), new)
                fresh = True
                continue
            self._emit_storage(req, "update", key, new)
            xc, xops = self._extra_writes(a)
            resp = yield self._txn(req, [Compare(key, "mod_revision", "==", int(cur_rv))] + xc,
                                   xops + [Op.put(key, _encode(new))], [], new)
            failed = self._etcd_failed(req, resp, user)
            if failed is not None:
                return failed
            if resp.succeeded:
                rv = str(resp.revision)
                new["metadata"]["resourceVersion"] = rv
                out = self._ok(req, code, out_of(new), rv, new)
                out.warnings = list(getattr(a, "warnings", None) or ())
                return out
            if want_rv and not is_patch:
                return self._fail(req, st.conflict(req.resource, req.name, group=info.group), user)
            # A patch is applied again to the fresh object: its resourceVersion is the fresh one unless the
            # patch itself names one (then the check above answers 409), as the patch handler's retry does
            # (k8s.io/apiserver/pkg/endpoints/handlers/patch.go; GuaranteedUpdate's tryUpdate is called again).
            fresh = True
        return self._fail(req, st.conflict(req.resource, req.name, group=info.group), user)

    def _bind_pod(self, req: Request, user: UserInfo) -> Generator:
        # pkg/registry/core/pod/storage/storage.go BindingREST.Create -> assignPod -> setPodNodeAndMetadata:
        # sets spec.nodeName and the PodScheduled=True condition, failing if already bound.
        body = req.body or {}
        node = body.get("target", {}).get("name", "")
        key = registry.key("pods", req.namespace, req.name)
        now = clock.rfc3339(self.env.now)
        for _attempt in range(5):
            # GuaranteedUpdate reads the current object; the decoded one the watch cache shares is only read
            # here, and the bound Pod is a copy of it with a new spec, status and metadata.
            cur = self.get_shared(key)
            if cur is None:
                return self._fail(req, st.not_found("pods", req.name), user)
            uid = (body.get("metadata") or {}).get("uid")
            if uid and uid != cur["metadata"].get("uid"):
                return self._fail(req, st.conflict("pods", req.name, f"Precondition failed: UID in precondition: {uid}, UID in object meta: {cur['metadata'].get('uid')}"), user)
            if cur["metadata"].get("deletionTimestamp"):
                return self._fail(req, st.conflict("pods", req.name, f"pod {req.name} is being deleted, cannot be assigned to a host"), user)
            if cur["spec"].get("nodeName"):
                return self._fail(req, st.conflict("pods", req.name, f"pod {req.name} is already assigned to node \"{cur['spec']['nodeName']}\""), user)
            read_rev = int(cur["metadata"]["resourceVersion"])
            status = dict(cur.get("status") or {})
            status["conditions"] = list(status.get("conditions") or ())
            cur = {**cur, "metadata": dict(cur["metadata"]), "spec": {**cur["spec"], "nodeName": node}, "status": status}
            set_condition(cur, {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
            self._emit_storage(req, "update", key, cur)
            raw = _encode(cur)
            self._written[key] = (raw, cur)   # nobody changes the bound Pod: the watch may share it as is
            resp = yield self._txn(req, [Compare(key, "mod_revision", "==", read_rev)], [Op.put(key, raw)], [], cur)
            self._written.pop(key, None)
            failed = self._etcd_failed(req, resp, user)
            if failed is not None:
                return failed
            if resp.succeeded:
                rv = str(resp.revision)
                cur["metadata"]["resourceVersion"] = rv
                # Upstream answers a Status Success (201); the bound Pod is returned here for the scheduler's
                # Scheduled event.
                return self._ok(req, 201, cur, rv, cur)
        return self._fail(req, st.conflict("pods", req.name), user)

    # ---- delete --------------------------------------------------------------------------------------
    def _delete(self, req: Request, user: UserInfo, info: registry.ResourceInfo, eviction: bool = False) -> Generator:
        """Store.Delete (k8s.io/apiserver/pkg/registry/generic/registry/store.go) with rest.BeforeDelete
        (registry/rest/delete.go): preconditions, graceful deletion (Pods), the garbage collector's
        finalizers for the propagation policy, pending finalizers; namespaces go Terminating first."""
        key = registry.key(req.resource, req.namespace, req.name)
        q = dict(req.query or {})
        body = req.body if isinstance(req.body, dict) else {}
        if eviction:
            body = body.get("deleteOptions") or {}
        grace = q.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
        grace = int(grace) if grace is not None and grace != "" else None
        policy = q.get("propagationPolicy", body.get("propagationPolicy"))
        pre = body.get("preconditions") or {}
        if policy is not None and policy not in ("Orphan", "Background", "Foreground"):
            return self._fail(req, st.invalid("DeleteOptions", "", [{"reason": "FieldValueNotSupported", "field": "propagationPolicy",
                              "message": f'Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan", "nil"'}]), user)
        for _attempt in range(8):
            cur = self.get(key)
            if cur is None:
                return self._fail(req, st.not_found(req.resource, req.name, info.group), user)
            m = cur["metadata"]
            cur_rv = m["resourceVersion"]
            if pre.get("uid") and pre["uid"] != m.get("uid"):
                return self._fail(req, st.conflict(req.resource, req.name, f"the UID in the precondition ({pre['uid']}) does not match the UID in record ({m.get('uid')}). The object might have been deleted and then recreated", info.group), user)
            if pre.get("resourceVersion") and pre["resourceVersion"] != cur_rv:
                return self._fail(req, st.conflict(req.resource, req.name, f"the ResourceVersion in the precondition ({pre['resourceVersion']}) does not match the ResourceVersion in record ({cur_rv}). The object might have been modified", info.group), user)
            a = _attrs(operation="DELETE", resource=req.resource, subresource="", namespace=req.namespace, name=req.name,
                       user=user.name, kind=info.kind, old=cur, writes=[], group=info.group)
            err = yield from self._admit(req, a, cur)
            if err is None:
                err = yield from self._admit_validate(req, a, cur)
            if err is not None:
                return self._fail(req, err, user)
            new = _clone(cur)
            nm = new["metadata"]
            now = self.env.now
            if req.resource == "namespaces":
                # pkg/registry/core/namespace/storage/storage.go Delete: the first request switches the
                # namespace to Terminating; it is removed only once spec.finalizers is empty.
                if not m.get("deletionTimestamp") or new.get("status", {}).get("phase") != "Terminating":
                    nm.setdefault("deletionTimestamp", clock.rfc3339(now))
                    new.setdefault("status", {})["phase"] = "Terminating"
                    _gc_finalizers(nm, policy)
                    out = yield from self._write_delete_update(req, user, info, key, cur_rv, new)
                    if out is None:
                        continue
                    return out
                if new.get("spec", {}).get("finalizers"):
                    return self._ok(req, 200, cur, cur_rv, cur)
                graceful = False
            else:
                graceful, pending = self._before_delete(req.resource, info, new, grace, now)
                if pending:
                    return self._ok(req, 200, cur, cur_rv, cur)  # already being deleted: finalizeDelete(obj)
            changed = _gc_finalizers(nm, policy)
            pending_fin = bool(nm.get("finalizers"))
            if graceful or pending_fin or changed:
                if not graceful and pending_fin and not m.get("deletionTimestamp"):
                    # markAsDeleting: deletionTimestamp now, grace 0.
                    nm["deletionTimestamp"] = clock.rfc3339(now)
                    nm["deletionGracePeriodSeconds"] = 0
                if pending_fin or (graceful and nm.get("deletionGracePeriodSeconds", 0) > 0):
                    out = yield from self._write_delete_update(req, user, info, key, cur_rv, new)
                    if out is None:
                        continue
                    return out
                if graceful:
                    # A graceful delete with grace 0: the update, then the delete (two revisions). Without
                    # graceful deletion and with no finalizer left, nothing is written before the delete
                    # (errDeleteNow in updateForGracefulDeletionAndFinalizers).
                    self._emit_storage(req, "update", key, new)
                    resp = yield self._txn(req, [Compare(key, "mod_revision", "==", int(cur_rv))],
                                           [Op.put(key, _encode(new))], [], new)
                    failed = self._etcd_failed(req, resp, user)
                    if failed is not None:
                        return failed
                    if not resp.succeeded:
                        continue
                    cur_rv = str(resp.revision)
            if _dry_run(req):
                return self._ok(req, 200, self._deleted_body(req, info, new), cur_rv, new)
            self._emit_storage(req, "delete", key, new)
            resp = yield self._txn(req, [Compare(key, "mod_revision", "==", int(cur_rv))], [Op.delete(key)], [], new)
            failed = self._etcd_failed(req, resp, user)
            if failed is not None:
                return failed
            if not resp.succeeded:
                continue
            new["metadata"]["resourceVersion"] = cur_rv
            if eviction:
                return self._ok(req, 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                                str(resp.revision), new)
            return self._ok(req, 200, self._deleted_body(req, info, new), str(resp.revision), new)
        return self._fail(req, st.conflict(req.resource, req.name, group=info.group), user)

    def _delete_collection(self, req: Request, user: UserInfo, info: registry.ResourceInfo) -> Generator:
        """Store.DeleteCollection: list with the selectors, then delete each item as a DELETE would (not
        atomic); answers the list of what was deleted."""
        q = req.query or {}
        try:
            lsel = sel.label_match(q["labelSelector"]) if q.get("labelSelector") else None
            fsel = sel.field_match(req.resource, q["fieldSelector"]) if q.get("fieldSelector") else None
        except sel.SelectorError as e:
            return self._fail(req, st.bad_request(str(e)), user)
        items = []
        for k in self.keys(registry.prefix(req.resource, req.namespace if info.namespaced else "")):
            o = self.get(k)
            if o is None or (lsel is not None and not lsel(o)) or (fsel is not None and not fsel(o)):
                continue
            sub = dataclasses.replace(req, verb="delete", name=o["metadata"]["name"], announced=True,
                                      traced=False, body=req.body)
            r = yield from self._delete(sub, user, info)
            if r.code == 404:
                continue
            if not r.ok:
                return r
            items.append(r.body if r.body and r.body.get("kind") != "Status" else o)
        rv = str(self.revision)
        return self._ok(req, 200, {"kind": info.kind + "List", "apiVersion": info.api_version,
                                   "metadata": {"resourceVersion": rv}, "items": items}, rv)

    def _deleted_body(self, req: Request, info: registry.ResourceInfo, obj: dict) -> dict:
        if info.return_deleted:
            return obj
        return st.success(obj["metadata"]["name"], info.group, req.resource, obj["metadata"].get("uid", ""))

    def _write_delete_update(self, req: Request, user: UserInfo, info, key: str, cur_rv: str, new: dict) -> Generator:
        self._emit_storage(req, "update", key, new)
        resp = yield self._txn(req, [Compare(key, "mod_revision", "==", int(cur_rv))], [Op.put(key, _encode(new))], [], new)
        failed = self._etcd_failed(req, resp, user)
        if failed is not None:
            return failed
        if not resp.succeeded:
            return None  # GuaranteedUpdate: read again and retry
        rv = str(resp.revision)
        new["metadata"]["resourceVersion"] = rv
        return self._ok(req, 200, new, rv, new)

    @staticmethod
    def _before_delete(resource: str, info: registry.ResourceInfo, obj: dict, grace: int | None, now: float) -> tuple[bool, bool]:
        """rest.BeforeDelete -> (graceful, gracefulPending); sets deletionTimestamp/deletionGracePeriodSeconds."""
        if not info.graceful:
            return False, False
        m = obj["metadata"]
        if grace is not None and grace < 0:
            grace = 1
        if m.get("deletionTimestamp"):
            existing = m.get("deletionGracePeriodSeconds")
            if not existing:
                return False, False
            if grace is not None:
                if grace >= existing:
                    return False, True
                requested = _virtual_seconds(m["deletionTimestamp"]) - existing
                m["deletionTimestamp"] = clock.rfc3339(requested + grace)
                m["deletionGracePeriodSeconds"] = grace
                return True, False
            return False, True
        # podStrategy.CheckGracefulDelete: the option, else spec.terminationGracePeriodSeconds; 0 for a pod
        # that is not scheduled or already terminated.
        spec, status = obj.get("spec", {}), obj.get("status", {})
        period = grace if grace is not None else spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE)
        if period is None:
            period = DEFAULT_GRACE
        if not spec.get("nodeName") or status.get("phase") in ("Failed", "Succeeded"):
            period = 0
        m["deletionTimestamp"] = clock.rfc3339(now + period)
        m["deletionGracePeriodSeconds"] = period
        return True, False


_REASON = {200: "OK", 201: "Created", 202: "Accepted"}


def _answer_word(answer: dict | None) -> str:
    """A SelfSubjectAccessReview's verdict in the response summary."""
    if not answer or "allowed" not in answer:
        return ""
    return ": allowed" if answer["allowed"] else ": denied"
# etcd cluster -> keys being written by quiet requests (shared by the API servers of one cluster).
_QUIET: "weakref.WeakKeyDictionary[object, dict[str, int]]" = weakref.WeakKeyDictionary()


def _virtual_seconds(ts: str) -> float:
    """The inverse of clock.rfc3339: virtual seconds of an RFC 3339 timestamp."""
    import datetime as _dt
    t = _dt.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)
    return (t - clock.EPOCH).total_seconds()


def _dry_run(req: Request) -> bool:
    dr = (req.query or {}).get("dryRun")
    return bool(dr) and dr != "false"


def _gc_finalizers(meta: dict, policy: str | None) -> bool:
    """deletionFinalizersForGarbageCollection: orphan / foregroundDeletion as the propagation policy says
    (Background, the default for every built-in resource since apps/v1, removes both). Returns whether
    the finalizers changed."""
    old = list(meta.get("finalizers") or [])
    keep = [f for f in old if f not in ("orphan", "foregroundDeletion")]
    if policy is None:
        # Unset: a finalizer already on the object is honoured.
        if "orphan" in old:
            keep.append("orphan")
        if "foregroundDeletion" in old:
            keep.append("foregroundDeletion")
    elif policy == "Orphan":
        keep.append("orphan")
    elif policy == "Foreground":
        keep.append("foregroundDeletion")
    if set(keep) == set(old):
        return False
    if keep:
        meta["finalizers"] = keep
    else:
        meta.pop("finalizers", None)
    return True


def _generation_fields(resource: str, obj: dict):
    """What a change of bumps metadata.generation: the spec; for an EndpointSlice (no spec) its endpoints,
    ports and addressType (pkg/registry/discovery/endpointslice/strategy.go PrepareForUpdate)."""
    if resource == "endpointslices":
        return obj.get("endpoints"), obj.get("ports"), obj.get("addressType")
    return obj.get("spec")


def _same(a: dict, b: dict) -> bool:
    ma = {k: v for k, v in a.get("metadata", {}).items() if k != "resourceVersion"}
    mb = {k: v for k, v in b.get("metadata", {}).items() if k != "resourceVersion"}
    if ma != mb:
        return False
    return {k: v for k, v in a.items() if k != "metadata"} == {k: v for k, v in b.items() if k != "metadata"}


def _scale_of(obj: dict) -> dict:
    """The autoscaling/v1 Scale of a Deployment / ReplicaSet / StatefulSet (pkg/registry/apps/*/storage
    ScaleREST): spec.replicas, status.replicas and the selector as a string."""
    m = obj["metadata"]
    match = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in m},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(match.items()))}}


def qos_class(pod: dict) -> str:
    """pkg/apis/core/helper/qos: BestEffort with no requests/limits, Guaranteed when requests == limits for
    cpu and memory in every container, else Burstable."""
    containers = pod["spec"].get("containers", [])
    if all(not c.get("resources", {}).get("requests") and not c.get("resources", {}).get("limits") for c in containers):
        return "BestEffort"
    for c in containers:
        r = c.get("resources", {})
        lim, req = r.get("limits", {}), r.get("requests", {}) or r.get("limits", {})
        if not all(k in lim and str(lim[k]) == str(req.get(k, lim[k])) for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"


def set_condition(pod: dict, cond: dict) -> None:
    conds = pod.setdefault("status", {}).setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c["type"] == cond["type"]:
            if c.get("status") == cond.get("status"):
                cond = {**cond, "lastTransitionTime": c.get("lastTransitionTime")}
            conds[i] = cond
            return
    conds.append(cond)


def merge_status(old: dict, new: dict) -> dict:
    out = dict(old)
    out.update(new)
    return out


_encode = etcd_encode   # the stored text (resourceVersion cleared); named here for the many write paths


_ORDER = ("kind", "apiVersion", "metadata", "spec", "status")


def _ordered(obj: dict) -> dict:
    return {k: obj[k] for k in _ORDER if k in obj} | {k: v for k, v in obj.items() if k not in _ORDER}


_ordered_pod = _ordered
