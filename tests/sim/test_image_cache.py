"""Images are pulled once per node; later Pods find them according to their imagePullPolicy."""
from tests.sim.helpers import create_pod, pod_manifest

from simulator.apiserver import Request


def _pin(name, image, node):
    return pod_manifest(name, image, nodeSelector={"kubernetes.io/hostname": node})


def _kubelet_events(cluster, pod):
    return [o for o in cluster.apiserver.list("/registry/events/default/")
            if o["involvedObject"]["name"] == pod and o["source"].get("component") == "kubelet"]


def test_second_pod_finds_if_not_present_image_already_present(cluster):
    assert create_pod(cluster, _pin("a", "nginx:alpine", "worker-1")).code == 201
    cluster.run_until_idle()
    assert [e["reason"] for e in _kubelet_events(cluster, "a")] == ["Pulling", "Pulled", "Created", "Started"]
    cluster.tracer.buffer.clear()
    assert create_pod(cluster, _pin("b", "nginx:alpine", "worker-1")).code == 201
    cluster.run_until_idle()
    evs = _kubelet_events(cluster, "b")
    assert [e["reason"] for e in evs] == ["Pulled", "Created", "Started"]
    assert evs[0]["message"] == 'Container image "nginx:alpine" already present on machine'
    pulled = next(e for e in cluster.tracer.buffer if e["type"] == "kubelet.image.pulled")
    assert pulled["data"]["cached"] is True and pulled["data"]["duration"] == 0.0
    assert not any(e["type"] == "kubelet.image.pulling" for e in cluster.tracer.buffer)
    assert cluster.get("/registry/pods/default/b")["status"]["phase"] == "Running"


def test_always_policy_pulls_again_but_only_resolves_the_manifest(cluster):
    assert create_pod(cluster, _pin("a", "nginx", "worker-1")).code == 201
    cluster.run_until_idle()
    first = next(e for e in _kubelet_events(cluster, "a") if e["reason"] == "Pulled")
    cluster.tracer.buffer.clear()
    assert create_pod(cluster, _pin("b", "nginx", "worker-1")).code == 201
    cluster.run_until_idle()
    pulled = next(e for e in cluster.tracer.buffer if e["type"] == "kubelet.image.pulled")
    assert pulled["data"]["cached"] is True and pulled["data"]["duration"] < 1.0
    second = next(e for e in _kubelet_events(cluster, "b") if e["reason"] == "Pulled")
    assert second["message"].startswith('Successfully pulled image "nginx" in ')
    assert first["message"].endswith("Image size: 72195292 bytes.")


def test_cache_is_per_node(cluster):
    assert create_pod(cluster, _pin("a", "busybox", "worker-1")).code == 201
    cluster.run_until_idle()
    assert create_pod(cluster, _pin("b", "busybox", "worker-2")).code == 201
    cluster.run_until_idle()
    assert [e["reason"] for e in _kubelet_events(cluster, "b")][:2] == ["Pulling", "Pulled"]
    assert isinstance(Request, type)
