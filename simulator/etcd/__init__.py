"""etcd: an MVCC key-value store with etcd v3 semantics, and the Raft-replicated members that serve it."""
from .mvcc import KeyValue, MVCCStore, Compare, Op, TxnResponse, WatchEvent, CompactedError
from .member import EtcdCluster, EtcdError, RangeResponse, REQUEST_TIMEOUT

__all__ = ["KeyValue", "MVCCStore", "Compare", "Op", "TxnResponse", "WatchEvent", "CompactedError", "EtcdCluster",
           "EtcdError", "RangeResponse", "REQUEST_TIMEOUT"]
