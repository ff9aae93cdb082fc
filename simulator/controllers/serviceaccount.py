"""Two small per-namespace controllers of kube-controller-manager (v1.31):
- serviceaccount-controller (pkg/controller/serviceaccount/serviceaccounts_controller.go): every active
  namespace gets the ServiceAccount "default" (the ServiceAccount admission plugin rejects Pods in a
  namespace that has none yet: "error looking up service account <ns>/default").
- root-ca-cert-publisher (pkg/controller/certificates/rootcacertpublisher/publisher.go): every namespace
  gets the ConfigMap kube-root-ca.crt with the cluster CA bundle, annotated kubernetes.io/description.
"""
from __future__ import annotations

from typing import Generator

from .base import Controller, ok

CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
                  "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
                  "distributions of Kubernetes clusters.")
CA_BUNDLE = "-----BEGIN CERTIFICATE-----\n(the cluster CA)\n-----END CERTIFICATE-----\n"


class _PerNamespace(Controller):
    RESOURCES = ("namespaces",)
    OWN = ""        # the resource it keeps in each namespace
    OBJ_NAME = ""

    def register(self) -> None:
        self.inf["namespaces"].add_handler(lambda kind, old, ns: kind != "DELETED" and self.enqueue(ns["metadata"]["name"]))
        self.inf[self.OWN].add_handler(
            lambda kind, old, o: kind == "DELETED" and o["metadata"]["name"] == self.OBJ_NAME
            and self.enqueue(o["metadata"]["namespace"]))

    def body(self, ns: str) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def sync(self, key: str) -> Generator:
        ns = self.inf["namespaces"].get(key)
        if ns is None or ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
            return ("none", None, None)
        if self.inf[self.OWN].get(f"{key}/{self.OBJ_NAME}") is not None:
            return ("none", "present", "present")
        resp = yield self.client.create(self.OWN, self.body(key), namespace=key)
        if ok(resp) or getattr(resp, "code", 0) == 409:
            return (f"created {self.OWN}/{self.OBJ_NAME}", "present", "absent")
        return ("error", "present", "absent", f"create {self.OWN}/{self.OBJ_NAME}: {getattr(resp, 'code', '?')}")


class ServiceAccountsController(_PerNamespace):
    NAME = "serviceaccount"
    SOURCE = "service-account-controller"
    RESOURCES = ("namespaces", "serviceaccounts")
    OWN, OBJ_NAME = "serviceaccounts", "default"

    def body(self, ns: str) -> dict:
        return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}


class RootCACertPublisher(_PerNamespace):
    NAME = "root-ca-cert-publisher"
    SOURCE = "root-ca-cert-publisher"
    RESOURCES = ("namespaces", "configmaps")
    OWN, OBJ_NAME = "configmaps", "kube-root-ca.crt"

    def body(self, ns: str) -> dict:
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kube-root-ca.crt", "namespace": ns,
                             "annotations": {"kubernetes.io/description": CA_DESCRIPTION}},
                "data": {"ca.crt": CA_BUNDLE}}
