"""kube-proxy iptables mode, as a pure function: Services + ready endpoints -> iptables rule text.

Modelled on Kubernetes v1.31 `pkg/proxy/iptables/proxier.go` (kubernetes/kubernetes), chiefly
`syncProxyRules()`, `writeServiceToEndpointRules()`, `portProtoHash()`, `servicePortPolicyClusterChain()`,
`serviceExternalChainName()`, `servicePortEndpointChainName()` and `computeProbability()`; and on
`pkg/proxy/types.go` for `ServicePortName.String()`. Stdlib only, no I/O, no clock, no randomness.

Input shapes
------------
services : list of Service dicts in the real API shape::

    {"metadata": {"name": "web", "namespace": "default"},
     "spec": {"type": "ClusterIP" | "NodePort", "clusterIP": "10.96.0.10",
              "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}]}}

endpoints : dict keyed by "namespace/name" -> dict keyed by the *service port name* ("" for an unnamed
    port) -> list of READY endpoints ``{"ip": "10.244.1.5", "port": 8080}``. (This is what kube-proxy's
    EndpointsMap holds after EndpointSlice processing: per ServicePortName, the ready endpoints.) A
    service missing from the dict, or a port with an empty list, has no endpoints.

Output styles
-------------
``style="restore"``: byte-for-byte the shape kube-proxy *writes* to ``iptables-restore`` (the
    ``*filter`` section then the ``*nat`` section; args in kube-proxy's order, e.g.
    ``-m comment --comment "..." -m tcp -p tcp -d 10.96.0.10 --dport 80``). This is what the upstream
    proxier_test.go expectations look like.
``style="save"`` (default): what ``iptables-save`` prints back afterwards: built-in chains first, user
    chains sorted by name (iptables-legacy order), rules grouped per chain, and each rule normalized to
    ``-s/-d`` (with ``/32``), ``-p``, then matches (``-m comment --comment "..." -m tcp --dport 80``),
    then the target (MARK ``--or-mark X`` shown as ``--set-xmark X/X``, REJECT showing its default
    ``--reject-with icmp-port-unreachable``).

Simplifications (documented, deliberate): Service ports are processed in sorted ServicePortName order
(upstream iterates a Go map, i.e. random order; order between services is semantically irrelevant because
each KUBE-SERVICES rule matches a distinct ip:port). Endpoints are string-sorted by "ip:port", as
pkg/proxy/endpointslicecache.go's byEndpoint sort does. No session
affinity, no externalIPs, no LoadBalancer, no Local traffic policies, no large-cluster mode (>1000
endpoints drops per-endpoint comments upstream), no nfacct counters, IPv4 only, conntrack not liberal,
``--random-fully`` off unless asked.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Iterable

# --- constants, as in proxier.go -------------------------------------------------------------------
KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"
KUBELET_FIREWALL = "KUBE-FIREWALL"

SVC_PREFIX = "KUBE-SVC-"   # servicePortPolicyClusterChainNamePrefix
SVL_PREFIX = "KUBE-SVL-"   # servicePortPolicyLocalChainNamePrefix (not generated: no Local policy here)
FW_PREFIX = "KUBE-FW-"     # serviceFirewallChainNamePrefix (not generated: no LoadBalancer here)
EXT_PREFIX = "KUBE-EXT-"   # serviceExternalChainNamePrefix
SEP_PREFIX = "KUBE-SEP-"   # servicePortEndpointChainNamePrefix

NODEPORTS_COMMENT = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"


# --- naming (proxier.go: portProtoHash & friends; types.go: ServicePortName.String) ---------------
def service_port_name(namespace: str, name: str, port_name: str = "") -> str:
    """ServicePortName.String(): NamespacedName.String() ("ns/name") + fmtPortName(port), where
    fmtPortName("") == "" and fmtPortName(p) == ":" + p (pkg/proxy/types.go)."""
    return f"{namespace}/{name}" + (f":{port_name}" if port_name else "")


def _b32_16(data: str) -> str:
    # sha256.Sum256 -> base32.StdEncoding (RFC 4648 alphabet A-Z2-7, padded) -> first 16 chars.
    return base64.b32encode(hashlib.sha256(data.encode("utf-8")).digest()).decode("ascii")[:16]


def port_proto_hash(svc_port_name: str, protocol: str) -> str:
    """portProtoHash(servicePortName, protocol): sha256(servicePortName + protocol), base32, [:16].
    `protocol` is lower-case ("tcp"/"udp"/"sctp"), as newServiceInfo passes strings.ToLower(...)."""
    return _b32_16(svc_port_name + protocol)


def service_port_policy_cluster_chain(svc_port_name: str, protocol: str) -> str:
    """servicePortPolicyClusterChain: "KUBE-SVC-" + portProtoHash(...)."""
    return SVC_PREFIX + port_proto_hash(svc_port_name, protocol)


def service_external_chain_name(svc_port_name: str, protocol: str) -> str:
    """serviceExternalChainName: "KUBE-EXT-" + portProtoHash(...)."""
    return EXT_PREFIX + port_proto_hash(svc_port_name, protocol)


def service_port_endpoint_chain_name(svc_port_name: str, protocol: str, endpoint: str) -> str:
    """servicePortEndpointChainName: "KUBE-SEP-" + base32(sha256(servicePortName + protocol + endpoint))[:16],
    where endpoint is BaseEndpointInfo.String(), i.e. net.JoinHostPort(ip, port) -> "10.244.1.5:8080"."""
    return SEP_PREFIX + _b32_16(svc_port_name + protocol + endpoint)


def compute_probability(n: int) -> str:
    """computeProbability(n): fmt.Sprintf("%0.10f", 1.0/float64(n))."""
    return "%0.10f" % (1.0 / float(n))


def kernel_probability(p: str) -> str:
    """How iptables-save re-prints a --probability after the round trip through the kernel: libxt_statistic
    stores lround(p * 2^31) and prints it back with %.11f (e.g. 0.3333333333 -> 0.33333333349).
    Not from proxier.go; from the iptables userspace extension (unverified here, see module notes)."""
    v = int(float(p) * 0x80000000 + 0.5)
    return "%.11f" % (v / 0x80000000)


def service_dns_name(svc: dict, cluster_domain: str = "cluster.local") -> str:
    """<name>.<namespace>.svc.<cluster-domain>, e.g. web.default.svc.cluster.local."""
    md = svc.get("metadata", {})
    return f"{md['name']}.{md.get('namespace') or 'default'}.svc.{cluster_domain}"


def go_hash_08x(value: int) -> str:
    """Go's fmt.Sprintf("%#08x", v) (NewProxier's masqueradeMark). Go zero-pads the *digits* to the width
    and then prepends 0x, so 1<<14 -> "0x00004000" (kube-proxy logs mark="0x00004000")."""
    return "0x%08x" % value


# --- rule model --------------------------------------------------------------------------------------
def _q(comment: str) -> str:
    # kube-proxy writes multi-word comments wrapped in literal double quotes (fmt.Sprintf(`"%s ..."`));
    # single-word comments (svcPortNameString) go out bare.
    return f'"{comment}"'


class _Tables:
    """The four line buffers of syncProxyRules: filterChains, filterRules, natChains, natRules."""

    def __init__(self) -> None:
        self.filter_chains: list[str] = []
        self.filter_rules: list[list[str]] = []
        self.nat_chains: list[str] = []
        self.nat_rules: list[list[str]] = []


def _service_ports(services: Iterable[dict]) -> list[dict]:
    out = []
    for svc in services:
        md, spec = svc.get("metadata", {}), svc.get("spec", {})
        cluster_ip = spec.get("clusterIP") or ""
        if cluster_ip in ("", "None"):  # headless / unset: kube-proxy skips it
            continue
        ns, name = md.get("namespace") or "default", md["name"]
        for p in spec.get("ports", []):
            port_name = p.get("name") or ""
            spn = service_port_name(ns, name, port_name)
            protocol = (p.get("protocol") or "TCP").lower()
            node_port = int(p.get("nodePort") or 0) if spec.get("type", "ClusterIP") in ("NodePort", "LoadBalancer") else 0
            out.append({
                "key": f"{ns}/{name}", "port_name": port_name, "spn": spn, "protocol": protocol,
                "cluster_ip": cluster_ip, "port": int(p["port"]), "node_port": node_port,
            })
    out.sort(key=lambda s: (s["spn"], s["protocol"]))
    return out


def _endpoint_strings(endpoints: dict, key: str, port_name: str) -> list[str]:
    eps = (endpoints or {}).get(key, {}).get(port_name, []) or []
    strs = {f"{e['ip']}:{int(e['port'])}" for e in eps if e.get("ip") and int(e.get("port") or 0) > 0}
    # pkg/proxy/endpointslicecache.go: "Ensure endpoints are always returned in the same order to simplify
    # diffing." sort.Sort(byEndpoint(...)), Less = e[i].String() < e[j].String(): a plain string sort.
    return sorted(strs)


def _build(services, endpoints, *, cluster_cidr, masquerade_all, masquerade_bit, random_fully,
           localhost_nodeports) -> _Tables:
    t = _Tables()
    mark = go_hash_08x(1 << masquerade_bit)

    # "Write chain lines for all the top-level chains we'll be filling in" (proxier.go)
    for c in (KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL):
        t.filter_chains.append(c)
    for c in (KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ):
        t.nat_chains.append(c)

    # kubernetes-specific postrouting rules and the masquerade mark rule
    t.nat_rules.append(["-A", KUBE_POSTROUTING, "-m", "mark", "!", "--mark", f"{mark}/{mark}", "-j", "RETURN"])
    t.nat_rules.append(["-A", KUBE_POSTROUTING, "-j", "MARK", "--xor-mark", mark])
    masq = ["-A", KUBE_POSTROUTING, "-m", "comment", "--comment", _q("kubernetes service traffic requiring SNAT"),
            "-j", "MASQUERADE"]
    if random_fully:
        masq.append("--random-fully")
    t.nat_rules.append(masq)
    t.nat_rules.append(["-A", KUBE_MARK_MASQ, "-j", "MARK", "--or-mark", mark])

    if localhost_nodeports:  # IPv4 + localhostNodePorts (the v1.31 default): anti-martian rule
        t.filter_chains.append(KUBELET_FIREWALL)
        t.filter_rules.append([
            "-A", KUBELET_FIREWALL, "-m", "comment", "--comment", _q("block incoming localnet connections"),
            "-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8",
            "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP"])

    for sp in _service_ports(services):
        spn, proto, cip, port = sp["spn"], sp["protocol"], sp["cluster_ip"], str(sp["port"])
        eps = _endpoint_strings(endpoints, sp["key"], sp["port_name"])
        has_endpoints = bool(eps)
        svc_chain = service_port_policy_cluster_chain(spn, proto)
        ext_chain = service_external_chain_name(spn, proto)
        uses_ext = has_endpoints and sp["node_port"] != 0  # ExternallyAccessible(): NodePort/LB/externalIPs

        # Capture the clusterIP.
        if has_endpoints:
            t.nat_rules.append(["-A", KUBE_SERVICES, "-m", "comment", "--comment", _q(f"{spn} cluster IP"),
                                "-m", proto, "-p", proto, "-d", cip, "--dport", port, "-j", svc_chain])
        else:
            t.filter_rules.append(["-A", KUBE_SERVICES, "-m", "comment", "--comment", _q(f"{spn} has no endpoints"),
                                   "-m", proto, "-p", proto, "-d", cip, "--dport", port, "-j", "REJECT"])

        # Capture nodeports.
        if sp["node_port"]:
            np_ = str(sp["node_port"])
            if has_endpoints:
                t.nat_rules.append(["-A", KUBE_NODEPORTS, "-m", "comment", "--comment", spn,
                                    "-m", proto, "-p", proto, "--dport", np_, "-j", ext_chain])
            else:
                t.filter_rules.append(["-A", KUBE_EXTERNAL_SERVICES, "-m", "comment", "--comment",
                                       _q(f"{spn} has no endpoints"), "-m", "addrtype", "--dst-type", "LOCAL",
                                       "-m", proto, "-p", proto, "--dport", np_, "-j", "REJECT"])

        if not has_endpoints:
            continue  # "we will not generate any chains in the nat table for the service"

        # Set up internal traffic handling: masquerade off-cluster traffic to the ClusterIP.
        args = ["-m", "comment", "--comment", _q(f"{spn} cluster IP"), "-m", proto, "-p", proto,
                "-d", cip, "--dport", port]
        if masquerade_all:
            t.nat_rules.append(["-A", svc_chain, *args, "-j", KUBE_MARK_MASQ])
        elif cluster_cidr:  # localDetector.IsImplemented() (detect-local-mode ClusterCIDR)
            t.nat_rules.append(["-A", svc_chain, *args, "!", "-s", cluster_cidr, "-j", KUBE_MARK_MASQ])

        # External traffic (NodePort) chain; Cluster externalTrafficPolicy -> always masquerade.
        if uses_ext:
            t.nat_chains.append(ext_chain)
            t.nat_rules.append(["-A", ext_chain, "-m", "comment", "--comment",
                                _q(f"masquerade traffic for {spn} external destinations"), "-j", KUBE_MARK_MASQ])
            t.nat_rules.append(["-A", ext_chain, "-j", svc_chain])

        # Cluster policy chain -> endpoints (writeServiceToEndpointRules).
        t.nat_chains.append(svc_chain)
        n = len(eps)
        for i, ep in enumerate(eps):
            r = ["-A", svc_chain, "-m", "comment", "--comment", _q(f"{spn} -> {ep}")]
            if i < n - 1:  # "Each rule is a probabilistic match."
                r += ["-m", "statistic", "--mode", "random", "--probability", compute_probability(n - i)]
            # "The final (or only if n == 1) rule is a guaranteed match."
            t.nat_rules.append(r + ["-j", service_port_endpoint_chain_name(spn, proto, ep)])

        # Per-endpoint chains.
        for ep in eps:
            sep = service_port_endpoint_chain_name(spn, proto, ep)
            ip = ep.rsplit(":", 1)[0]
            t.nat_chains.append(sep)
            # "Handle traffic that loops back to the originator with SNAT." (hairpin)
            t.nat_rules.append(["-A", sep, "-m", "comment", "--comment", spn, "-s", ip, "-j", KUBE_MARK_MASQ])
            # "DNAT to final destination."
            t.nat_rules.append(["-A", sep, "-m", "comment", "--comment", spn, "-m", proto, "-p", proto,
                                "-j", "DNAT", "--to-destination", ep])

    # "Finally, tail-call to the nodePorts chain. This needs to be after all other service portal rules."
    dest = ["-m", "addrtype", "--dst-type", "LOCAL"]
    if not localhost_nodeports:
        dest += ["!", "-d", "127.0.0.0/8"]
    t.nat_rules.append(["-A", KUBE_SERVICES, "-m", "comment", "--comment", _q(NODEPORTS_COMMENT), *dest,
                        "-j", KUBE_NODEPORTS])

    # KUBE-FORWARD (filter): INVALID drop (nf_conntrack_tcp_be_liberal unset), then the accept rules.
    t.filter_rules.append(["-A", KUBE_FORWARD, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"])
    t.filter_rules.append(["-A", KUBE_FORWARD, "-m", "comment", "--comment", _q("kubernetes forwarding rules"),
                           "-m", "mark", "--mark", f"{mark}/{mark}", "-j", "ACCEPT"])
    t.filter_rules.append(["-A", KUBE_FORWARD, "-m", "comment", "--comment", _q("kubernetes forwarding conntrack rule"),
                           "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"])
    return t


# --- iptables-save normalization ----------------------------------------------------------------
_NO_QUOTE = set("_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _save_string(s: str) -> str:
    # libxtables xtables_save_string(): bare if only [A-Za-z0-9_-], else double-quoted with escapes.
    if s and all(c in _NO_QUOTE for c in s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _with_mask(addr: str) -> str:
    return addr if "/" in addr else addr + "/32"


def _hexnorm(v: str) -> str:
    return "0x%x" % int(v, 16)


def _save_rule(args: list[str], kernel_probabilities: bool) -> str:
    chain = args[1]
    header: dict[str, str] = {}
    matches: list[list[str]] = []
    target: list[str] = []
    i, neg = 2, False
    while i < len(args):
        a = args[i]
        if a == "!":
            neg = True
            i += 1
            continue
        if target:
            target.append(a)
        elif a in ("-s", "-d", "-p"):
            header[a] = ("! " if neg else "") + (_with_mask(args[i + 1]) if a != "-p" else args[i + 1])
            neg = False
            i += 2
            continue
        elif a == "-m":
            matches.append(["-m", args[i + 1]])
            i += 2
            continue
        elif a == "-j":
            target = ["-j", args[i + 1]]
            i += 2
            continue
        else:  # a match option (or its value)
            if neg:
                matches[-1].append("!")
                neg = False
            val = a
            if a.startswith('"') and a.endswith('"') and len(a) >= 2:
                val = a[1:-1]
            if matches and matches[-1][1] == "comment" and matches[-1][-1] == "--comment":
                val = _save_string(val)
            elif matches and matches[-1][-1] == "--probability" and kernel_probabilities:
                val = kernel_probability(val)
            elif matches and matches[-1][1] == "mark" and matches[-1][-1] == "--mark":
                m, mask = val.split("/")
                val = f"{_hexnorm(m)}/{_hexnorm(mask)}"
            matches[-1].append(val)
        i += 1
    # target normalization
    if target[1] == "MARK" and len(target) >= 4:
        if target[2] == "--or-mark":
            v = _hexnorm(target[3])
            target = ["-j", "MARK", "--set-xmark", f"{v}/{v}"]
        elif target[2] == "--xor-mark":
            target = ["-j", "MARK", "--set-xmark", f"{_hexnorm(target[3])}/0x0"]
    elif target[1] == "REJECT" and len(target) == 2:
        target += ["--reject-with", "icmp-port-unreachable"]
    out = ["-A", chain]
    for k in ("-s", "-d", "-p"):
        if k in header:
            v = header[k]
            out += (["!", k, v[2:]] if v.startswith("! ") else [k, v])
    for m in matches:
        out += m
    out += target
    return " ".join(out)


_BUILTIN = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}
# iptablesJumpChains + iptablesKubeletJumpChains (proxier.go), installed with EnsureRule(Prepend, ...).
_JUMPS = [
    ("filter", "INPUT", ["-m", "conntrack", "--ctstate", "NEW"], "kubernetes load balancer firewall", KUBE_PROXY_FIREWALL),
    ("filter", "INPUT", [], "kubernetes health check service ports", KUBE_NODEPORTS),
    ("filter", "INPUT", ["-m", "conntrack", "--ctstate", "NEW"], "kubernetes externally-visible service portals", KUBE_EXTERNAL_SERVICES),
    ("filter", "INPUT", [], "", KUBELET_FIREWALL),
    ("filter", "FORWARD", ["-m", "conntrack", "--ctstate", "NEW"], "kubernetes load balancer firewall", KUBE_PROXY_FIREWALL),
    ("filter", "FORWARD", [], "kubernetes forwarding rules", KUBE_FORWARD),
    ("filter", "FORWARD", ["-m", "conntrack", "--ctstate", "NEW"], "kubernetes service portals", KUBE_SERVICES),
    ("filter", "FORWARD", ["-m", "conntrack", "--ctstate", "NEW"], "kubernetes externally-visible service portals", KUBE_EXTERNAL_SERVICES),
    ("filter", "OUTPUT", ["-m", "conntrack", "--ctstate", "NEW"], "kubernetes load balancer firewall", KUBE_PROXY_FIREWALL),
    ("filter", "OUTPUT", ["-m", "conntrack", "--ctstate", "NEW"], "kubernetes service portals", KUBE_SERVICES),
    ("filter", "OUTPUT", [], "", KUBELET_FIREWALL),
    ("nat", "PREROUTING", [], "kubernetes service portals", KUBE_SERVICES),
    ("nat", "OUTPUT", [], "kubernetes service portals", KUBE_SERVICES),
    ("nat", "POSTROUTING", [], "kubernetes postrouting rules", KUBE_POSTROUTING),
]


def _save_table(name: str, chains: list[str], rules: list[list[str]], kernel_probabilities: bool) -> list[str]:
    lines = [f"*{name}"]
    lines += [f":{c} ACCEPT [0:0]" for c in _BUILTIN[name]]
    user = sorted(set(chains))
    lines += [f":{c} - [0:0]" for c in user]
    by_chain: dict[str, list[str]] = {}
    for table, src, extra, comment, dst in _JUMPS:
        if table != name or (dst == KUBELET_FIREWALL and KUBELET_FIREWALL not in chains):
            continue
        r = ["-A", src, *extra] + (["-m", "comment", "--comment", _q(comment)] if comment else []) + ["-j", dst]
        by_chain.setdefault(src, []).append(_save_rule(r, kernel_probabilities))
    for r in rules:
        by_chain.setdefault(r[1], []).append(_save_rule(r, kernel_probabilities))
    for c in (*_BUILTIN[name], *user):
        lines += by_chain.get(c, [])
    lines.append("COMMIT")
    return lines


# --- public entry point -------------------------------------------------------------------------------
def sync_proxy_rules(services: list[dict], endpoints: dict | None = None, *, cluster_cidr: str | None = "10.244.0.0/16",
                     masquerade_all: bool = False, masquerade_bit: int = 14, random_fully: bool = False,
                     localhost_nodeports: bool = True, style: str = "save", include_filter: bool = True,
                     kernel_probabilities: bool = False) -> str:
    """Return the rules kube-proxy (iptables mode) programs for these Services and ready endpoints.

    cluster_cidr: kube-proxy's --cluster-cidr (detect-local-mode=ClusterCIDR); traffic to a ClusterIP from
        outside it gets KUBE-MARK-MASQ. None = no local detector (no such rule), as upstream.
    masquerade_all: --masquerade-all (mark every ClusterIP packet).
    style: "save" (iptables-save view, default) or "restore" (exactly what kube-proxy writes).
    include_filter: also emit the *filter table (REJECT rules for services without endpoints, KUBE-FORWARD...).
    kernel_probabilities: in "save" style, print probabilities as iptables-save really does after the
        kernel round trip (%.11f of the 2^31-quantized value) instead of kube-proxy's %0.10f string.
    """
    t = _build(services, endpoints, cluster_cidr=cluster_cidr, masquerade_all=masquerade_all,
               masquerade_bit=masquerade_bit, random_fully=random_fully, localhost_nodeports=localhost_nodeports)
    lines: list[str] = []
    if style == "restore":
        if include_filter:
            lines += ["*filter", *[f":{c} - [0:0]" for c in t.filter_chains], *[" ".join(r) for r in t.filter_rules],
                      "COMMIT"]
        lines += ["*nat", *[f":{c} - [0:0]" for c in t.nat_chains], *[" ".join(r) for r in t.nat_rules], "COMMIT"]
    elif style == "save":
        if include_filter:
            lines += _save_table("filter", t.filter_chains, t.filter_rules, kernel_probabilities)
        lines += _save_table("nat", t.nat_chains, t.nat_rules, kernel_probabilities)
    else:
        raise ValueError(f"unknown style {style!r}")
    return "\n".join(lines) + "\n"
