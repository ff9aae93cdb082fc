"""The container runtime on a node (containerd behind the CRI): image store, pod sandboxes with the CNI
plugin, containers. A state machine the kubelet drives; the kubelet owns the timing and the events."""
from __future__ import annotations

import ipaddress
import random

from .. import ids
from . import images

COMPONENT = "container-runtime"


class ContainerRuntime:
    def __init__(self, node: str, pod_cidr: str, rng: random.Random, preloaded: list[str] = ()):
        self.node = node
        self.rng = rng
        self.pod_cidr = ipaddress.ip_network(pod_cidr)
        self.images: dict[str, int] = {}
        for img in preloaded:
            self.images[images.canonical(img)] = images.size_of(img)
        # host-local IPAM hands out addresses in order from the node's podCIDR; .1 is the gateway.
        self._next_host = 2
        self.sandboxes: dict[str, dict] = {}
        self.containers: dict[str, dict] = {}

    # images (ImageService)
    def has_image(self, image: str) -> bool:
        return images.canonical(image) in self.images

    def pull_time(self, image: str) -> float:
        """Seconds to pull: resolving the manifest at the registry, then the layers. Layers already in the
        content store are not downloaded again (a re-pull of the same tag only resolves the manifest)."""
        resolve = self.rng.uniform(0.35, 0.7)
        if self.has_image(image):
            return resolve
        bandwidth = self.rng.uniform(20e6, 32e6)  # bytes/s, a good office or classroom link
        unpack = images.size_of(image) / self.rng.uniform(150e6, 250e6)
        return resolve + images.size_of(image) / bandwidth + unpack

    def pull_image(self, image: str) -> int:
        size = images.size_of(image)
        self.images[images.canonical(image)] = size
        return size

    # sandboxes (RuntimeService.RunPodSandbox) + CNI ADD
    def run_pod_sandbox(self, pod_uid: str) -> dict:
        ip = str(self.pod_cidr.network_address + self._next_host)
        self._next_host += 1
        sb = {"id": ids.hex_id(self.rng), "ip": ip}
        self.sandboxes[pod_uid] = sb
        return sb

    # containers (RuntimeService.CreateContainer / StartContainer)
    def create_container(self, pod_uid: str, name: str, image: str) -> str:
        cid = ids.hex_id(self.rng)
        self.containers[cid] = {"pod": pod_uid, "name": name, "image": image, "state": "CONTAINER_CREATED"}
        return cid

    def start_container(self, cid: str) -> None:
        self.containers[cid]["state"] = "CONTAINER_RUNNING"
