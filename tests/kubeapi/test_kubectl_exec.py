"""The lesson's etcd exercise with the real kubectl against the live cluster: find the etcd Pod by its label,
`kubectl exec` etcdctl in it to list the Pods' keys and to watch a new Pod's key being written; what a wrong
command, a missing certificate, a shell and a student get."""
from __future__ import annotations

import json
import time

import pytest

PKI = ["--endpoints=https://127.0.0.1:2379", "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
       "--cert=/etc/kubernetes/pki/etcd/server.crt", "--key=/etc/kubernetes/pki/etcd/server.key"]


@pytest.fixture(scope="module")
def etcd_pod(kube):
    name = kube.kubectl("get", "pods", "-n", "kube-system", "-l", "component=etcd", "-o",
                        "jsonpath={.items[0].metadata.name}").stdout
    assert name == "etcd-control-plane"
    return name


def test_etcdctl_get_keys_and_json(kube, etcd_pod):
    kube.kubectl("run", "exec-a", "--image=nginx", "-n", "default")
    out = kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "get", "/registry/pods/default/",
                       "--prefix", "--keys-only", *PKI).stdout
    # The simple printer: each key, then an empty line where the value would be.
    assert "/registry/pods/default/exec-a\n\n" in out, out
    assert all(line.startswith("/registry/pods/default/") for line in out.splitlines() if line)
    raw = kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "-w", "json", "get",
                       "/registry/namespaces/default", *PKI).stdout
    resp = json.loads(raw)
    assert resp["header"]["revision"] >= resp["kvs"][0]["mod_revision"] and resp["count"] == 1
    members = kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "member", "list", *PKI).stdout
    assert ", started, control-plane, https://" in members


def test_etcdctl_watch_streams_a_new_pods_writes(kube, etcd_pod):
    watch = kube.popen("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "watch", "/registry/pods/default/",
                       "--prefix", *PKI)
    try:
        time.sleep(1.5)
        kube.kubectl("run", "exec-watched", "--image=nginx", "-n", "default")
        seen, deadline = [], time.monotonic() + 60
        lines = iter(watch.stdout.readline, "")
        for line in lines:
            seen.append(line.rstrip("\n"))
            # PUT, the key, the value (the Pod as the API server stored it): created, bound, then Running.
            if seen[-1].startswith("{") and '"phase":"Running"' in seen[-1] and "exec-watched" in seen[-1]:
                break
            assert time.monotonic() < deadline, seen[-6:]
    finally:
        watch.terminate()
        watch.wait(10)
    puts = [i for i, s in enumerate(seen) if s == "PUT" and seen[i + 1] == "/registry/pods/default/exec-watched"]
    assert len(puts) >= 3, seen[:12]
    first = json.loads(seen[puts[0] + 2])
    assert first["metadata"]["name"] == "exec-watched" and not first["spec"].get("nodeName")


def test_what_etcdctl_and_the_etcd_image_refuse(kube, etcd_pod):
    # No client certificate: kubeadm's etcd only takes TLS clients; etcdctl gives up after its dial timeout.
    p = kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "get", "/registry/", "--prefix",
                     "--keys-only", "--dial-timeout=200ms", check=False)
    assert p.returncode == 1 and "Error: context deadline exceeded" in p.stderr, p.stderr
    assert "command terminated with exit code 1" in p.stderr
    p = kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "put", "/registry/x", "y", *PKI,
                     check=False)
    assert p.returncode == 1 and "only reads" in p.stderr
    # The etcd image has no shell.
    p = kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "sh", "-c", "etcdctl version", check=False)
    assert p.returncode != 0 and 'exec: "sh": executable file not found in $PATH' in p.stderr, p.stderr


def test_a_student_cannot_exec_not_even_in_their_own_namespace(kube, etcd_pod):
    p = kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "version", role="student",
                     name="exec-student", check=False)
    assert p.returncode == 1 and 'cannot get resource "pods" in API group "" in the namespace "kube-system"' in p.stderr
    kube.kubectl("run", "mine", "--image=nginx", role="student", name="exec-student")
    p = kube.kubectl("exec", "mine", "--", "ls", role="student", name="exec-student", check=False)
    # (refused over WebSocket, kubectl tries SPDY, a POST, which needs `create pods/exec` and is refused too)
    assert p.returncode == 1 and 'cannot create resource "pods/exec" in API group ""' in p.stderr, p.stderr
    # The instructor can; etcdctl version needs no connection to etcd.
    assert kube.kubectl("exec", "-n", "kube-system", etcd_pod, "--", "etcdctl", "version").stdout.startswith(
        "etcdctl version: 3.5.21\nAPI version: 3.5")
