"""kube-apiserver model: authentication, authorization, admission, validation, storage, watch."""
from .authn import Credential, UserInfo
from .server import ApiServer, Request, Response

__all__ = ["ApiServer", "Request", "Response", "Credential", "UserInfo"]
