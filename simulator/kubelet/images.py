"""Container images the simulator knows, with realistic compressed sizes (linux/amd64, what containerd
reports as the image size after a pull). The byte counts are representative of recent tags, not of a
specific digest."""
from __future__ import annotations

import hashlib

# short name -> compressed size in bytes
SIZES = {
    "nginx": 72_195_292,
    "nginx:alpine": 20_918_470,
    "busybox": 2_155_149,
    "redis": 45_104_536,
    # preloaded on every kind node image
    "registry.k8s.io/pause:3.10": 320_368,
    "docker.io/kindest/kindnetd:v20250512-df8de77b": 44_375_501,
    "registry.k8s.io/kube-proxy:v1.31.0": 30_899_136,
    "registry.k8s.io/coredns/coredns:v1.11.3": 20_939_036,
    "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a": 22_541_737,
}


def canonical(image: str) -> str:
    """How containerd names an image: docker.io/library/nginx:latest for "nginx"."""
    name = image
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        name = ("docker.io/library/" if "/" not in name else "docker.io/") + name
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in name:
        name += ":latest"
    return name


def size_of(image: str) -> int:
    for k, v in SIZES.items():
        if canonical(k) == canonical(image):
            return v
    return 50_000_000


def digest_of(image: str) -> str:
    """A stand-in for the repo digest: deterministic per image name (not the real registry digest)."""
    return "sha256:" + hashlib.sha256(canonical(image).encode()).hexdigest()
