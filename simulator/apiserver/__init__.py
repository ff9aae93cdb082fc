"""kube-apiserver model: authentication, authorization, admission, validation, generic REST storage, watch,
and the load balancer in front of several instances."""
from .authn import Credential, UserInfo
from .lb import LoadBalancer
from .registry import RESOURCES, ResourceInfo
from .server import ApiServer, Request, Response, WatchExpired

__all__ = ["ApiServer", "Request", "Response", "WatchExpired", "LoadBalancer", "RESOURCES", "ResourceInfo",
           "Credential", "UserInfo"]
