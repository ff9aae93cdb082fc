"""A kind node's container, through the `docker` command on the worker's machine: node failure on a real
cluster is `docker pause` of a worker node's container (its kubelet, container runtime and Pods freeze, as
if the machine had lost power or its network) and `docker unpause` to bring it back.

kind names each node's container after the node (challenge-cluster-worker ...) and labels it
io.x-k8s.kind.cluster=<cluster name> (sigs.k8s.io/kind pkg/cluster/internal/providers/docker/provision.go,
constants.go). Only such a container is paused: a node that is not a kind container here is refused.
Every failure is one fixed sentence (docker's own output names sockets and hosts; it is logged nowhere).
"""
from __future__ import annotations

import shutil
import subprocess

from django.conf import settings

from .connect import ClusterUnavailable

KIND_LABEL = "io.x-k8s.kind.cluster"
TIMEOUT_S = 20


def _docker() -> str | None:
    return shutil.which(settings.DASHBOARD_API_DOCKER)


def _run(*args: str) -> subprocess.CompletedProcess:
    exe = _docker()
    if exe is None:
        raise ClusterUnavailable(
            "node failure on a real cluster pauses the node's container with `docker pause`, and the worker's "
            "machine has no docker command (DASHBOARD_API_DOCKER): this scenario is unavailable here")
    try:
        return subprocess.run([exe, *args], capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ClusterUnavailable(f"docker did not answer within {TIMEOUT_S} s") from None
    except OSError:
        raise ClusterUnavailable("the docker command could not be started on the worker's machine") from None


def reachable() -> None:
    """The docker daemon answers (raises ClusterUnavailable)."""
    if _run("version", "--format", "{{.Server.Version}}").returncode != 0:
        raise ClusterUnavailable(
            "Docker is not reachable from the worker (is the daemon running, and may the worker's user use it?): "
            "node failure on a real cluster pauses a kind node's container, so this scenario is unavailable here")


def state(node: str) -> str:
    """The node's container state (running, paused ...); raises ClusterUnavailable when the node is not a
    kind node container on this Docker."""
    got = _run("inspect", "--type", "container", "--format",
               "{{.State.Status}} {{index .Config.Labels \"" + KIND_LABEL + "\"}}", node)
    status, _, cluster = got.stdout.strip().partition(" ")
    if got.returncode != 0 or not cluster or cluster == "<no value>":
        raise ClusterUnavailable(f"node {node} is not a kind node container on the worker's Docker: node failure "
                                 "runs only on a kind cluster whose Docker the worker can use")
    return status


def check_nodes(nodes: list[str]) -> None:
    reachable()
    for node in nodes:
        st = state(node)
        if st != "running":
            raise ClusterUnavailable(f"node {node}'s container is {st}, not running")


def pause(node: str) -> None:
    if _run("pause", node).returncode != 0:
        raise ClusterUnavailable(f"docker pause {node} failed")


def unpause(node: str) -> bool:
    """Best effort (also when the container is not paused): True when it runs afterwards."""
    try:
        if state(node) == "paused":
            _run("unpause", node)
        return state(node) == "running"
    except ClusterUnavailable:
        return False
