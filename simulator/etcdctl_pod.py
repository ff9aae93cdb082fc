"""etcdctl as it runs inside a kubeadm cluster's etcd Pod, the lesson's way of looking at what the API server
stores: `kubectl exec -n kube-system etcd-<node> -- etcdctl get /registry/pods/default/ --prefix --keys-only
--endpoints=https://127.0.0.1:2379 --cacert=... --cert=... --key=...` and the same with `watch`.

Served by the live cluster's `pods/exec` (dashboard/kubeapi/podexec.py) against the simulated etcd itself:
- `get KEY [END] [--prefix] [--keys-only] [--rev=N] [--limit=N]`, `watch KEY [END] [--prefix] [--rev=N]
  [--prev-kv]` (streams until the exec is interrupted), `member list`, `version`; `-w simple` (the default)
  or `-w json`. Writing (put, del, txn, compaction) is refused with a sentence saying so: a write behind the
  API server's back is possible on a real cluster but not modelled here.
- Global flags anywhere on the line, as cobra reads them. etcd in a kubeadm cluster serves clients only over
  TLS with client certificates (etcd/local.go: --client-cert-auth=true), so without --cacert, --cert and
  --key naming the kubeadm files under /etc/kubernetes/pki/etcd/ the client cannot connect: after its dial
  timeout (2 s by default) etcdctl says `Error: context deadline exceeded`, as the real one does.
- The simple printer (etcdctl/ctlv3/command/printer_simple.go): `get` prints each key and then its value on
  the next line (an empty line with --keys-only); `watch` prints the event type (PUT or DELETE), then the
  previous key and value with --prev-kv, then the key and value. The JSON printer is encoding/json on the
  response (printer_json.go): RangeResponse as in simulator/etcdctl.py; a watch response is clientv3's
  WatchResponse, whose Go fields have no json tags (Header, Events, CompactRevision, Canceled, Created), its
  events mvccpb.Event with omitempty tags (type omitted for PUT, which is 0; kv; prev_kv).
- Values are what the simulated API server stored: JSON. A real kube-apiserver stores built-in types as
  Kubernetes protobuf (the bytes start with "k8s\\x00"), which etcdctl prints as mostly unreadable bytes.
Exit codes: 0, or 1 with `Error: ...` on stderr (etcdctl's ExitError).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .etcd.mvcc import MVCCStore, WatchEvent
from .etcdctl import (CLUSTER_ID, MEMBER_ID, RAFT_TERM, CommandError, Etcdctl, _dump, _header, _kv_json, flag_value,
                      parse_request)

VERSION = "3.5.21"   # registry.k8s.io/etcd:3.5.21-0, the image of the simulated etcd Pod (simulator/cluster.py)
PKI = "/etc/kubernetes/pki/etcd/"
# The files kubeadm writes there (cmd/kubeadm/app/phases/certs): the CA, the server's, the peer's and the
# health check client's pairs. Any pair signed by that CA is accepted by etcd.
CA = PKI + "ca.crt"
PAIRS = {PKI + f"{n}.crt": PKI + f"{n}.key" for n in ("server", "peer", "healthcheck-client")}
DIAL_TIMEOUT_S = 2.0
GLOBAL = {"endpoints": True, "cacert": True, "cert": True, "key": True, "write-out": True, "w": True,
          "command-timeout": True, "dial-timeout": True, "hex": False, "insecure-skip-tls-verify": False,
          "insecure-transport": False, "debug": False}
READ_ONLY = "this simulated etcdctl only reads (get, watch, member list, version): writing etcd behind the API " \
            "server's back is possible on a real cluster but not modelled here"


@dataclass
class Invocation:
    words: list[str]                 # the subcommand and its own arguments and flags
    json: bool = False
    tls: bool = False                # the client certificate flags name the kubeadm files
    dial_timeout: float = DIAL_TIMEOUT_S


def parse(argv: list[str]) -> Invocation:
    """argv without the program name. Raises CommandError (the text after "Error: ")."""
    words, flags = [], {}
    i = 0
    while i < len(argv):
        a = argv[i]
        name = None
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a[2:].partition("=")
        elif a.startswith("-w"):
            name, eq, val = "w", "=" if len(a) > 2 else "", a[2:].lstrip("=")
        if name is None or name not in GLOBAL:
            words.append(a)
            i += 1
            continue
        if GLOBAL[name]:
            val, i = flag_value(argv, i, name, eq, val)
            flags["write-out" if name == "w" else name] = val
        else:
            flags[name] = True
        i += 1
    fmt = flags.get("write-out", "simple")
    if fmt not in ("simple", "json"):
        raise CommandError(f'unsupported output format {fmt!r} here (this simulated etcdctl prints "simple" or "json")')
    dial = flags.get("dial-timeout", "2s")
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", dial)
    if m is None:
        raise CommandError(f'invalid argument "{dial}" for "--dial-timeout" flag: time: invalid duration "{dial}"')
    seconds = float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(2)]
    cert, key = flags.get("cert"), flags.get("key")
    tls = flags.get("cacert") == CA and cert in PAIRS and PAIRS[cert] == key
    return Invocation(words, fmt == "json", tls, seconds)


class PodEtcdctl:
    """One etcdctl command against `store`, the simulated etcd of the Pod's node."""

    def __init__(self, store: MVCCStore, member: str, ip: str):
        self.store, self.member, self.ip = store, member, ip
        self.reader = Etcdctl()
        self.reader.store = store

    def run(self, inv: Invocation) -> str:
        """The output of a command that ends (everything but watch). Raises CommandError."""
        words = inv.words
        if not words:
            raise CommandError("no command given (try get, watch, member list or version)")
        cmd = words[0]
        if cmd == "version":
            return f"etcdctl version: {VERSION}\nAPI version: 3.5\n"
        if cmd == "member" and words[1:] == ["list"]:
            mid = f"{MEMBER_ID:x}"
            if inv.json:
                return _dump({"header": _header(self.store.revision), "members": [{
                    "ID": MEMBER_ID, "name": self.member, "peerURLs": [f"https://{self.ip}:2380"],
                    "clientURLs": [f"https://{self.ip}:2379"]}]}) + "\n"
            return f"{mid}, started, {self.member}, https://{self.ip}:2380, https://{self.ip}:2379, false\n"
        if cmd == "get":
            req = parse_request(words)
            if inv.json:
                return _dump(self.reader.top_level(req)) + "\n"
            _, shown = self.reader.get(req)
            return "".join(f"{kv.key}\n{'' if req.keys_only else kv.value}\n" for kv in shown)
        if cmd in ("put", "del", "txn", "compaction", "defrag", "snapshot", "lease", "elect", "lock"):
            raise CommandError(READ_ONLY)
        if cmd == "watch":
            raise CommandError("watch streams: use watch_request")   # the server streams it
        raise CommandError(f'unknown command "{cmd}" for "etcdctl"')

    # -- watch --
    @staticmethod
    def watch_request(inv: Invocation) -> tuple[str, str | None, bool, int, bool]:
        """(key, range end, prefix, start revision, prev_kv) of `watch`; raises CommandError."""
        args = inv.words[1:]
        pos, prefix, rev, prev = [], False, 0, False
        for a in args:
            if a in ("--prefix", "--prefix=true"):
                prefix = True
            elif a in ("--prev-kv", "--prev-kv=true"):
                prev = True
            elif a.startswith("--rev="):
                try:
                    rev = int(a[6:])
                except ValueError:
                    raise CommandError(f'invalid argument "{a[6:]}" for "--rev" flag: strconv.ParseInt: parsing '
                                       f'"{a[6:]}": invalid syntax') from None
            elif a.startswith("--") or a == "-i":
                raise CommandError(f"unknown flag: {a.split('=', 1)[0]}")
            else:
                pos.append(a)
        if not pos:
            raise CommandError("watch in non-interactive mode requires one or two arguments as key or prefix, "
                               "with range end")
        if len(pos) > 2 or (prefix and len(pos) > 1):
            raise CommandError("too many arguments")
        return pos[0], pos[1] if len(pos) == 2 else None, prefix, rev, prev

    @staticmethod
    def matches(key: str, spec) -> bool:
        k, end, prefix = spec[0], spec[1], spec[2]
        if prefix:
            return key.startswith(k)
        if end is not None:
            return k.encode() <= key.encode() < end.encode()
        return key == k

    def format_watch(self, events: list[WatchEvent], inv: Invocation, prev_kv: bool) -> str:
        """One watch response (the events of one revision) as etcdctl prints it."""
        if inv.json:
            evs = []
            for ev in events:
                e = {}
                if ev.type == "DELETE":
                    e["type"] = 1
                e["kv"] = _kv_json(ev.kv, False)
                if prev_kv and ev.prev_kv is not None:
                    e["prev_kv"] = _kv_json(ev.prev_kv, False)
                evs.append(e)
            header = {"cluster_id": CLUSTER_ID, "member_id": MEMBER_ID, "revision": events[-1].kv.mod_revision,
                      "raft_term": RAFT_TERM}
            return _dump({"Header": header, "Events": evs, "CompactRevision": 0, "Canceled": False,
                          "Created": False}) + "\n"
        out = []
        for ev in events:
            out.append(ev.type)
            if prev_kv and ev.prev_kv is not None:
                out += [ev.prev_kv.key, ev.prev_kv.value]
            out += [ev.kv.key, ev.kv.value if ev.type == "PUT" else ""]
        return "".join(line + "\n" for line in out)

