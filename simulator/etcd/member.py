"""The etcd cluster as the API server sees it: a leader that commits writes to the MVCC store.

Single member for now. The shape (members, leader, term) is already the one a Raft model of 3 or 5
members will fill in (etcd-io/raft: the leader appends, a quorum acknowledges, the entry commits, then it
is applied to the MVCC store). A write is applied after a commit latency drawn from the run's RNG.
"""
from __future__ import annotations

import json
import random
from typing import Iterable

from ..kernel import Environment, Future
from ..trace import Tracer
from .mvcc import Compare, MVCCStore, Op, TxnResponse


class EtcdCluster:
    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, members: Iterable[str] = ("etcd-1",),
                 commit_latency: tuple[float, float] = (0.07, 0.12)):
        self.env = env
        self.rng = rng
        self.tracer = tracer
        self.members = list(members)
        self.leader = self.members[0]
        self.term = 1
        self.store = MVCCStore()
        self.commit_latency = commit_latency

    def shape(self) -> dict:
        return {"members": list(self.members), "leader": self.leader, "term": self.term,
                "revision": self.store.revision}

    def txn(self, compares: list[Compare], success: list[Op], failure: list[Op] = (), *,
            client: dict[str, str], obj: dict | None = None) -> Future:
        """Commit a transaction after the commit latency; emit etcd.put / etcd.delete for what it wrote."""
        fut = self.env.future()

        def commit() -> None:
            resp: TxnResponse = self.store.txn(compares, success, failure)
            for ev in resp.events:
                kv = ev.kv
                if ev.type == "PUT":
                    self.tracer.emit("etcd", self.leader, "etcd.put",
                                     f"PUT {kv.key} (revision {kv.mod_revision}, version {kv.version})",
                                     {"key": kv.key, "revision": resp.revision, "create_revision": kv.create_revision,
                                      "mod_revision": kv.mod_revision, "version": kv.version,
                                      "value": json.loads(kv.value)},
                                     to=client, obj=obj)
                else:
                    self.tracer.emit("etcd", self.leader, "etcd.delete", f"DELETE {kv.key} (revision {kv.mod_revision})",
                                     {"key": kv.key, "revision": resp.revision}, to=client, obj=obj)
            fut.resolve(resp)

        self.env.schedule(self.rng.uniform(*self.commit_latency), commit)
        return fut

    def put_now(self, key: str, obj: dict) -> None:
        """Write without latency or events: used only to lay down the bootstrapped cluster."""
        self.store.put(key, encode(obj))


def encode(obj: dict) -> str:
    """The stored bytes. Real kube-apiserver stores protobuf for built-in types; we store JSON (what
    `etcdctl get` piped through a decoder such as auger shows), with resourceVersion cleared as the
    API server does before writing (storage.APIObjectVersioner.PrepareObjectForStorage)."""
    meta = obj.get("metadata")
    if meta and "resourceVersion" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "resourceVersion"}
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
