"""etcdctl in the etcd Pod (simulator/etcdctl_pod.py): flags anywhere, the TLS flags kubeadm's etcd needs, the
simple and JSON printers for get and watch, and what it refuses."""
from __future__ import annotations

import base64
import json

import pytest

from simulator.etcd.mvcc import MVCCStore
from simulator.etcdctl import CommandError
from simulator.etcdctl_pod import PodEtcdctl, parse

TLS = ["--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert", "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
       "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key"]


@pytest.fixture
def ctl():
    store = MVCCStore()
    store.put("/registry/pods/default/a", '{"a":1}')
    store.put("/registry/pods/default/b", '{"b":2}')
    store.put("/registry/services/specs/default/kubernetes", "{}")
    return PodEtcdctl(store, "control-plane", "172.18.0.2")


def test_flags_anywhere_and_the_certificates_kubeadm_etcd_wants():
    inv = parse(["get", *TLS, "/registry/", "--prefix", "-w", "json", "--endpoints=https://127.0.0.1:2379"])
    assert inv.tls and inv.json and inv.words == ["get", "/registry/", "--prefix"]
    assert not parse(["get", "/x"]).tls
    assert not parse(["get", "/x", "--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert=/etc/kubernetes/pki/etcd/server.crt",
                      "--key=/etc/kubernetes/pki/etcd/peer.key"]).tls   # a key that is not the certificate's
    assert parse(["--dial-timeout=500ms", "version"]).dial_timeout == 0.5
    with pytest.raises(CommandError, match="invalid duration"):
        parse(["--dial-timeout=soon", "version"])
    with pytest.raises(CommandError, match="unsupported output format"):
        parse(["-w", "table", "get", "/x"])


def test_get_prints_keys_and_values_as_etcdctl_does(ctl):
    assert ctl.run(parse(["get", "/registry/pods/", "--prefix", "--keys-only"])) == \
        "/registry/pods/default/a\n\n/registry/pods/default/b\n\n"
    assert ctl.run(parse(["get", "/registry/pods/default/b"])) == '/registry/pods/default/b\n{"b":2}\n'
    resp = json.loads(ctl.run(parse(["-w", "json", "get", "/registry/pods/", "--prefix", "--limit=1"])))
    assert resp["count"] == 2 and resp["more"] is True and resp["header"]["revision"] == 4
    assert base64.b64decode(resp["kvs"][0]["key"]).decode() == "/registry/pods/default/a"
    assert ctl.run(parse(["member", "list"])).startswith("8e9e05c52164694d, started, control-plane, https://172.18.0.2:2380")
    with pytest.raises(CommandError, match="key is not provided"):   # in either printer
        ctl.run(parse(["get", ""]))
    with pytest.raises(CommandError, match="only reads"):
        ctl.run(parse(["put", "/registry/x", "y"]))
    with pytest.raises(CommandError, match='unknown command "nope"'):
        ctl.run(parse(["nope"]))


def test_watch_prints_each_revisions_events(ctl):
    store = ctl.store
    spec = ctl.watch_request(parse(["watch", "/registry/pods/default/", "--prefix", "--prev-kv"]))
    assert spec == ("/registry/pods/default/", None, True, 0, True)
    got = []
    store.watch("", prefix=True, callback=lambda ev: got.append(ev) if ctl.matches(ev.kv.key, spec) else None)
    store.put("/registry/pods/default/a", '{"a":3}')
    store.put("/registry/other", "x")
    store.delete("/registry/pods/default/b")
    assert len(got) == 2
    simple = parse(["watch", "/registry/pods/default/", "--prefix"])
    assert ctl.format_watch([got[0]], simple, True) == \
        'PUT\n/registry/pods/default/a\n{"a":1}\n/registry/pods/default/a\n{"a":3}\n'
    assert ctl.format_watch([got[1]], simple, False) == "DELETE\n/registry/pods/default/b\n\n"
    out = json.loads(ctl.format_watch([got[1]], parse(["-w", "json", "watch", "/x"]), False))
    assert list(out) == ["Header", "Events", "CompactRevision", "Canceled", "Created"]
    assert out["Events"][0]["type"] == 1 and out["Header"]["revision"] == 7
    with pytest.raises(CommandError, match="requires one or two arguments"):
        ctl.watch_request(parse(["watch", "--prefix"]))
