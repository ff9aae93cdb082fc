"""Authentication (k8s.io/apiserver/pkg/authentication).

kube-apiserver tries its authenticators (x509 client certificates, bearer tokens, ...) in turn. The
first to recognise the request decides who it is. A credential that is presented but invalid (a
certificate not signed by the cluster CA, an unknown or expired token) fails the request with 401.
Only a request that carries no credential at all becomes `system:anonymous` in group
`system:unauthenticated` (anonymous auth is on by default), and is then usually refused by authorization
with 403. Every authenticated user also gets the group `system:authenticated`
(authenticator.AuthenticatedGroupAdder).
"""
from __future__ import annotations

from dataclasses import dataclass, field

ANONYMOUS_USER = "system:anonymous"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
AUTHENTICATED_GROUP = "system:authenticated"


@dataclass(frozen=True)
class Credential:
    """What a client presents. kind: "x509" (cn = user, orgs = groups) or "token"."""
    kind: str
    cn: str = ""
    orgs: tuple[str, ...] = ()
    issuer: str = "kubernetes"  # the CA that signed the certificate; the cluster trusts "kubernetes"
    token: str = ""

    @staticmethod
    def x509(cn: str, *orgs: str, issuer: str = "kubernetes") -> "Credential":
        return Credential("x509", cn=cn, orgs=tuple(orgs), issuer=issuer)

    @staticmethod
    def bearer(token: str) -> "Credential":
        return Credential("token", token=token)


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...]
    authenticator: str  # "x509", "token", "anonymous"


@dataclass
class AuthnResult:
    ok: bool
    user: UserInfo | None


@dataclass
class Authenticator:
    trusted_cas: frozenset[str] = frozenset({"kubernetes"})
    tokens: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # token -> (user, groups)
    anonymous_enabled: bool = True

    def add_token(self, token: str, user: str, groups: tuple[str, ...] | list[str] = ()) -> None:
        """A static token (kube-apiserver --token-auth-file: token,user,uid,"group1,group2")."""
        self.tokens[token] = (user, tuple(groups))

    def add_service_account_token(self, token: str, namespace: str, name: str) -> None:
        """A service account's token (pkg/serviceaccount: the JWT's subject becomes
        system:serviceaccount:<namespace>:<name> in the groups system:serviceaccounts and
        system:serviceaccounts:<namespace>)."""
        self.add_token(token, f"system:serviceaccount:{namespace}:{name}",
                       ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"))

    def authenticate(self, cred: Credential | None) -> AuthnResult:
        if cred is None:
            if not self.anonymous_enabled:
                return AuthnResult(False, None)
            return AuthnResult(True, UserInfo(ANONYMOUS_USER, (UNAUTHENTICATED_GROUP,), "anonymous"))
        if cred.kind == "x509":
            if cred.issuer not in self.trusted_cas:
                return AuthnResult(False, UserInfo(cred.cn, cred.orgs, "x509"))
            return AuthnResult(True, UserInfo(cred.cn, tuple(cred.orgs) + (AUTHENTICATED_GROUP,), "x509"))
        if cred.kind == "token":
            found = self.tokens.get(cred.token)
            if found is None:
                return AuthnResult(False, UserInfo("", (), "token"))
            name, groups = found
            return AuthnResult(True, UserInfo(name, tuple(groups) + (AUTHENTICATED_GROUP,), "token"))
        return AuthnResult(False, None)
