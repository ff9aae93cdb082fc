"""Container images the simulator knows: which exist at their registry, their compressed sizes (linux/amd64,
what containerd reports as the image size after a pull; representative of recent tags, not of a specific
digest), and what each runs by default (its ENTRYPOINT/CMD, the ports its default process listens on).

Whether an image exists (`resolve`) follows from the catalog below, the way a registry would answer:
- a known repository with a known tag (or any digest) exists;
- a known repository with an unknown tag: the registry answers 404 for the manifest, containerd says
  `<ref>: not found` (gRPC code NotFound);
- an unknown repository on Docker Hub: Docker Hub answers 401 insufficient_scope (it does not reveal
  whether a repository exists), containerd says `pull access denied, repository does not exist or may
  require authorization: server message: insufficient_scope: authorization failed` (gRPC code Unknown);
- an unknown repository on another registry (registry.k8s.io, quay.io, ...): `not found`, as above.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# short name -> compressed size in bytes
SIZES = {
    "nginx": 72_195_292,
    "nginx:alpine": 20_918_470,
    "busybox": 2_155_149,
    "redis": 45_104_536,
    "httpd": 58_135_912,
    "alpine": 3_653_068,
    "registry.k8s.io/busybox:1.27.2": 675_234,
    "registry.k8s.io/e2e-test-images/agnhost:2.40": 51_156_931,
    # preloaded on every kind node image
    "registry.k8s.io/pause:3.10": 320_368,
    "docker.io/kindest/kindnetd:v20250512-df8de77b": 44_375_501,
    "registry.k8s.io/kube-proxy:v1.31.0": 30_899_136,
    "registry.k8s.io/coredns/coredns:v1.11.3": 20_939_036,
    "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a": 22_541_737,
}


@dataclass(frozen=True)
class Repository:
    tags: frozenset[str]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()      # what the default process listens on (documentation: EXPOSE)
    env: dict = field(default_factory=dict)


_NGINX_TAGS = frozenset({"latest", "stable", "mainline", "alpine", "1.27", "1.27.3", "1.27.4", "1.27.5", "1.26",
                         "1.26.3", "1.25", "1.25.5", "1.24", "1.23", "1.21", "1.14.2", "1.16.1", "perl",
                         "stable-alpine", "1.27-alpine"})

# canonical repository (docker.io/library/nginx) -> what it is
REPOSITORIES: dict[str, Repository] = {
    # nginx: ENTRYPOINT ["/docker-entrypoint.sh"], CMD ["nginx", "-g", "daemon off;"], STOPSIGNAL SIGQUIT
    "docker.io/library/nginx": Repository(_NGINX_TAGS, ("/docker-entrypoint.sh",), ("nginx", "-g", "daemon off;"), (80,)),
    "docker.io/library/busybox": Repository(frozenset({"latest", "stable", "1.36", "1.36.1", "1.37", "1.37.0", "musl",
                                                       "glibc", "uclibc", "1.28", "1.35"}), (), ("sh",)),
    "docker.io/library/alpine": Repository(frozenset({"latest", "3", "3.20", "3.21", "3.22", "edge"}), (), ("/bin/sh",)),
    "docker.io/library/redis": Repository(frozenset({"latest", "7", "7.2", "7.4", "8", "alpine", "7-alpine"}),
                                          ("docker-entrypoint.sh",), ("redis-server",), (6379,)),
    "docker.io/library/httpd": Repository(frozenset({"latest", "2.4", "alpine", "2.4-alpine"}), (), ("httpd-foreground",), (80,)),
    # The Kubernetes docs' probe examples.
    "registry.k8s.io/busybox": Repository(frozenset({"latest", "1.24", "1.27", "1.27.2"}), (), ("sh",)),
    "registry.k8s.io/e2e-test-images/agnhost": Repository(frozenset({"2.39", "2.40", "2.43", "2.45", "2.47", "2.52"}), ("/agnhost",), ()),
    "registry.k8s.io/pause": Repository(frozenset({"3.10", "3.9", "3.8", "latest"}), ("/pause",), ()),
    # kind's preloaded system images (their default processes are long-running daemons).
    "docker.io/kindest/kindnetd": Repository(frozenset({"v20250512-df8de77b"}), ("/bin/kindnetd",), ()),
    "registry.k8s.io/kube-proxy": Repository(frozenset({"v1.31.0"}), ("/usr/local/bin/kube-proxy",), ()),
    "registry.k8s.io/coredns/coredns": Repository(frozenset({"v1.11.3", "v1.11.1"}), ("/coredns",), (), (53, 8080, 8181)),
    "docker.io/kindest/local-path-provisioner": Repository(frozenset({"v20250214-acbabc1a"}), ("local-path-provisioner",), ()),
    "registry.k8s.io/etcd": Repository(frozenset({"3.5.21-0", "3.5.15-0"}), (), ("/usr/local/bin/etcd",), (2379, 2380)),
    "registry.k8s.io/kube-apiserver": Repository(frozenset({"v1.31.0"}), (), ("kube-apiserver",), (6443,)),
    "registry.k8s.io/kube-controller-manager": Repository(frozenset({"v1.31.0"}), (), ("kube-controller-manager",), (10257,)),
    "registry.k8s.io/kube-scheduler": Repository(frozenset({"v1.31.0"}), (), ("kube-scheduler",), (10259,)),
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


def split(image: str) -> tuple[str, str]:
    """(canonical repository, tag or "@digest")."""
    c = canonical(image)
    if "@" in c:
        repo, digest = c.split("@", 1)
        return repo.rsplit(":", 1)[0] if ":" in repo.rsplit("/", 1)[-1] else repo, "@" + digest
    repo, tag = c.rsplit(":", 1)
    return repo, tag


def repository(image: str) -> Repository | None:
    return REPOSITORIES.get(split(image)[0])


def resolve(image: str) -> tuple[str, str] | None:
    """None when the registry has the image; else (gRPC code, containerd's error text) for the pull.

    containerd (internal/cri/server/images/image_pull.go) wraps the resolver's error as
    `failed to pull and unpack image "<ref>": failed to resolve reference "<ref>": <cause>`."""
    repo, tag = split(image)
    ref = canonical(image)
    known = REPOSITORIES.get(repo)
    if known is not None and (tag.startswith("@") or tag in known.tags):
        return None
    prefix = f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
    if known is None and repo.startswith("docker.io/"):
        return ("Unknown", prefix + "pull access denied, repository does not exist or may require authorization: "
                                    "server message: insufficient_scope: authorization failed")
    return ("NotFound", prefix + f"{ref}: not found")


def size_of(image: str) -> int:
    for k, v in SIZES.items():
        if canonical(k) == canonical(image):
            return v
    repo = split(image)[0]
    for k, v in SIZES.items():  # another tag of a known repository: about the same size
        if split(k)[0] == repo:
            return v
    return 50_000_000


def digest_of(image: str) -> str:
    """A stand-in for the repo digest: deterministic per image name (not the real registry digest)."""
    return "sha256:" + hashlib.sha256(canonical(image).encode()).hexdigest()
