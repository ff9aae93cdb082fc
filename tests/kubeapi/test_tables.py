"""Table cells as kube-apiserver's printers compute them (pkg/printers/internalversion/printers.go) and ages as
duration.HumanDuration writes them (k8s.io/apimachinery/pkg/util/duration/duration.go)."""
from dashboard.kubeapi import tables
from simulator import clock


def test_human_duration_follows_go():
    cases = {-5: "<invalid>", -1: "0s", 0: "0s", 59: "59s", 119: "119s", 120: "2m", 125: "2m5s", 599: "9m59s",
             600: "10m", 3 * 3600 - 1: "179m", 3 * 3600: "3h", 3 * 3600 + 60: "3h1m", 8 * 3600: "8h",
             47 * 3600: "47h", 48 * 3600: "2d", 50 * 3600: "2d2h", 8 * 86400: "8d", 2 * 365 * 86400: "2y",
             2 * 365 * 86400 + 86400: "2y1d", 9 * 365 * 86400: "9y"}
    assert {s: tables.human_duration(s) for s in cases} == cases


def test_pod_row_crash_loop_with_restarts_and_wide_columns():
    pod = {"metadata": {"name": "crash", "creationTimestamp": clock.rfc3339(0)},
           "spec": {"containers": [{"name": "c"}], "nodeName": "worker-1"},
           "status": {"phase": "Running", "podIP": "10.244.1.5", "containerStatuses": [{
               "name": "c", "ready": False, "restartCount": 3,
               "state": {"waiting": {"reason": "CrashLoopBackOff"}},
               "lastState": {"terminated": {"finishedAt": clock.rfc3339(290)}}}]}}
    t = tables.table("pods", [pod], now=300.0, resource_version="42")
    assert [c["name"] for c in t["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert t["rows"][0]["cells"] == ["crash", "0/1", "CrashLoopBackOff", "3 (10s ago)", "5m", "10.244.1.5",
                                     "worker-1", "<none>", "<none>"]
    assert t["rows"][0]["object"]["kind"] == "PartialObjectMetadata" and t["metadata"]["resourceVersion"] == "42"


def test_node_row_not_ready_cordoned():
    node = {"metadata": {"name": "worker-2", "creationTimestamp": clock.rfc3339(0), "labels": {}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}], "nodeInfo": {"kubeletVersion": "v1.31.0"},
                       "addresses": [{"type": "InternalIP", "address": "172.18.0.4"}]}}
    cells = tables.table("nodes", [node], now=90.0)["rows"][0]["cells"]
    # A Ready condition that is Unknown (the node stopped reporting) prints NotReady; no condition, Unknown.
    assert cells[:6] == ["worker-2", "NotReady,SchedulingDisabled", "<none>", "90s", "v1.31.0", "172.18.0.4"]
    node["status"]["conditions"] = []
    node["metadata"]["labels"] = {"kubernetes.io/role": "edge"}
    assert tables.table("nodes", [node], now=90.0)["rows"][0]["cells"][1:3] == ["Unknown,SchedulingDisabled", "edge"]
