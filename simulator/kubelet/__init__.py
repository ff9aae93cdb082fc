"""kubelet and container runtime models."""
from .kubelet import Kubelet
from .runtime import ContainerRuntime

__all__ = ["Kubelet", "ContainerRuntime"]
