"""etcd: an MVCC key-value store with etcd v3 semantics, and the member/cluster that serves it."""
from .mvcc import KeyValue, MVCCStore, Compare, Op, TxnResponse, WatchEvent, CompactedError
from .member import EtcdCluster

__all__ = ["KeyValue", "MVCCStore", "Compare", "Op", "TxnResponse", "WatchEvent", "CompactedError", "EtcdCluster"]
