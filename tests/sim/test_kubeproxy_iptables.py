"""kube-proxy iptables mode (simulator/kubeproxy/iptables.py) against the upstream v1.31 algorithm
(pkg/proxy/iptables/proxier.go) and chain names published in the Kubernetes repository's tests."""
import base64
import hashlib
import re

import pytest

from simulator.kubeproxy.iptables import (
    compute_probability,
    kernel_probability,
    port_proto_hash,
    service_dns_name,
    service_external_chain_name,
    service_port_endpoint_chain_name,
    service_port_name,
    service_port_policy_cluster_chain,
    sync_proxy_rules,
)


def svc(name="web", ns="default", ip="10.96.0.10", type_="ClusterIP", ports=None):
    ports = ports or [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": type_, "clusterIP": ip, "ports": ports}}


def eps(*ips, port=8080):
    return [{"ip": ip, "port": port} for ip in ips]


def upstream_hash(s: str) -> str:
    # Independent re-statement of Go: base32.StdEncoding.EncodeToString(sha256.Sum256([]byte(s))[:])[:16]
    digest = hashlib.sha256(s.encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def chain_rules(text, chain):
    return [line for line in text.splitlines() if line.startswith(f"-A {chain} ")]


# --- naming -------------------------------------------------------------------------------------------
def test_service_port_name_string_matches_types_go():
    assert service_port_name("default", "web", "http") == "default/web:http"
    assert service_port_name("default", "web", "") == "default/web"  # fmtPortName("") == ""


def test_chain_hash_matches_independent_upstream_computation():
    assert port_proto_hash("default/web:http", "tcp") == upstream_hash("default/web:httptcp")
    assert service_port_policy_cluster_chain("default/web:http", "tcp") == "KUBE-SVC-" + upstream_hash("default/web:httptcp")
    assert service_external_chain_name("default/web:http", "tcp") == "KUBE-EXT-" + upstream_hash("default/web:httptcp")
    assert service_port_endpoint_chain_name("default/web:http", "tcp", "10.244.1.5:8080") == \
        "KUBE-SEP-" + upstream_hash("default/web:httptcp10.244.1.5:8080")
    for name in ("KUBE-SVC-" + port_proto_hash("a/b:c", "udp"),):
        assert len(name) <= 28 and re.fullmatch(r"KUBE-SVC-[A-Z2-7]{16}", name)


@pytest.mark.parametrize("spn,proto,expected", [
    # Literal chain names from kubernetes/kubernetes pkg/proxy/iptables/proxier_test.go
    # and pkg/util/iptables/testing/parse_test.go.
    ("ns1/svc1:p80", "tcp", "KUBE-SVC-XPGD46QRK7WJZT7O"),
    ("ns2/svc2:p80", "tcp", "KUBE-SVC-GNZBNJ2PO5MGZ6GT"),
    ("ns2/svc2:p8080", "tcp", "KUBE-SVC-2VJB64SDSIJUP5T6"),
    # The well-known chains every cluster has (kubernetes API service, kube-dns).
    ("default/kubernetes:https", "tcp", "KUBE-SVC-NPX46M4PTMTKRN6Y"),
    ("kube-system/kube-dns:dns", "udp", "KUBE-SVC-TCOU7JCQXEZGVUNU"),
])
def test_published_service_chain_names(spn, proto, expected):
    assert service_port_policy_cluster_chain(spn, proto) == expected


@pytest.mark.parametrize("endpoint,expected", [
    ("10.180.0.1:80", "KUBE-SEP-SXIVWICOYRO3J4NJ"),
    ("10.180.0.2:80", "KUBE-SEP-LXVODXWDISEETFEF"),
    ("10.180.2.1:80", "KUBE-SEP-ZX7GRIZKSNUQ3LAJ"),
])
def test_published_endpoint_chain_names(endpoint, expected):
    assert service_port_endpoint_chain_name("ns1/svc1:p80", "tcp", endpoint) == expected


def test_published_rules_from_proxier_test_in_restore_style():
    # Lines as they appear in upstream proxier_test.go (ns1/svc1:p80, clusterIP 172.30.0.41, one endpoint).
    s = svc("svc1", "ns1", "172.30.0.41", ports=[{"name": "p80", "port": 80, "protocol": "TCP"}])
    out = sync_proxy_rules([s], {"ns1/svc1": {"p80": eps("10.180.0.1", port=80)}}, style="restore")
    lines = out.splitlines()
    for expected in [
        '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
        "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ",
        "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]:
        assert expected in lines
    assert '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ' in lines
    # *filter first, then *nat, each closed by COMMIT (iptablesData in syncProxyRules)
    assert lines[0] == "*filter" and lines.count("COMMIT") == 2 and lines[-1] == "COMMIT"


def test_service_dns_name():
    assert service_dns_name(svc()) == "web.default.svc.cluster.local"
    assert service_dns_name(svc("api", "prod"), cluster_domain="example.org") == "api.prod.svc.example.org"


# --- probabilities --------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,expected", [
    (1, []),
    (2, ["0.5000000000"]),
    (3, ["0.3333333333", "0.5000000000"]),
    (4, ["0.2500000000", "0.3333333333", "0.5000000000"]),
])
def test_probabilities_for_1_to_4_endpoints(n, expected):
    ips = [f"10.244.{i}.5" for i in range(1, n + 1)]
    out = sync_proxy_rules([svc()], {"default/web": {"http": eps(*ips)}})
    rules = [r for r in chain_rules(out, service_port_policy_cluster_chain("default/web:http", "tcp"))
             if "KUBE-SEP-" in r]
    assert len(rules) == n
    got = [re.search(r"--probability (\S+)", r).group(1) for r in rules[:-1]]
    assert got == expected
    assert "statistic" not in rules[-1]  # the last rule is a guaranteed match
    assert compute_probability(3) == "0.3333333333"


def test_kernel_probability_rendering_option():
    assert kernel_probability("0.3333333333") == "0.33333333349"
    assert kernel_probability("0.5000000000") == "0.50000000000"
    out = sync_proxy_rules([svc()], {"default/web": {"http": eps("10.244.1.5", "10.244.2.5", "10.244.3.5")}},
                           kernel_probabilities=True)
    assert "--probability 0.33333333349" in out


# --- structure of the nat table -------------------------------------------------------------------------
def test_three_endpoint_cluster_ip_service_save_view():
    out = sync_proxy_rules([svc()], {"default/web": {"http": eps("10.244.1.5", "10.244.2.7", "10.244.3.9")}},
                           include_filter=False)
    svc_chain = service_port_policy_cluster_chain("default/web:http", "tcp")
    lines = out.splitlines()
    assert lines[0] == "*nat" and lines[-1] == "COMMIT"
    assert f":{svc_chain} - [0:0]" in lines and ":KUBE-SERVICES - [0:0]" in lines
    assert (f'-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" '
            f"-m tcp --dport 80 -j {svc_chain}") in lines
    # off-cluster sources masqueraded (detect-local ClusterCIDR)
    assert (f'-A {svc_chain} ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment '
            f'"default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ') == chain_rules(out, svc_chain)[0]
    sep = service_port_endpoint_chain_name("default/web:http", "tcp", "10.244.1.5:8080")
    assert chain_rules(out, sep) == [
        f'-A {sep} -s 10.244.1.5/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ',
        f'-A {sep} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080',
    ]
    # the nodeports jump is the last rule of KUBE-SERVICES
    assert chain_rules(out, "KUBE-SERVICES")[-1] == (
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule '
        'in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    assert "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000" in lines


def test_no_cluster_cidr_means_no_masquerade_rule_and_masquerade_all_marks_everything():
    e = {"default/web": {"http": eps("10.244.1.5")}}
    svc_chain = service_port_policy_cluster_chain("default/web:http", "tcp")
    assert not any("KUBE-MARK-MASQ" in r for r in chain_rules(sync_proxy_rules([svc()], e, cluster_cidr=None), svc_chain))
    rules = chain_rules(sync_proxy_rules([svc()], e, masquerade_all=True), svc_chain)
    assert rules[0].endswith("-j KUBE-MARK-MASQ") and "! -s" not in rules[0]


def test_endpoint_changes_recompute_sep_chains():
    before = sync_proxy_rules([svc()], {"default/web": {"http": eps("10.244.1.5", "10.244.2.7")}})
    after = sync_proxy_rules([svc()], {"default/web": {"http": eps("10.244.1.5", "10.244.2.7", "10.244.3.9")}})
    seps = lambda t: set(re.findall(r"^:(KUBE-SEP-\S+)", t, re.M))  # noqa: E731
    new = service_port_endpoint_chain_name("default/web:http", "tcp", "10.244.3.9:8080")
    assert seps(after) - seps(before) == {new}
    assert "--probability 0.3333333333" in after and "--probability 0.3333333333" not in before
    removed = sync_proxy_rules([svc()], {"default/web": {"http": eps("10.244.2.7", "10.244.3.9")}})
    gone = service_port_endpoint_chain_name("default/web:http", "tcp", "10.244.1.5:8080")
    assert gone not in removed and seps(removed) == seps(after) - {gone}


def test_nodeport_rules_only_for_nodeport_services():
    np_svc = svc("shop", "default", "10.96.0.20", "NodePort",
                 [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}])
    # nodePort on a ClusterIP service (stale field) must be ignored
    cip = svc(ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 31000}])
    e = {"default/shop": {"http": eps("10.244.1.5")}, "default/web": {"http": eps("10.244.2.5")}}
    out = sync_proxy_rules([np_svc, cip], e)
    ext = service_external_chain_name("default/shop:http", "tcp")
    svc_chain = service_port_policy_cluster_chain("default/shop:http", "tcp")
    assert chain_rules(out, "KUBE-NODEPORTS") == [
        f'-A KUBE-NODEPORTS -p tcp -m comment --comment "default/shop:http" -m tcp --dport 30080 -j {ext}']
    assert chain_rules(out, ext) == [
        f'-A {ext} -m comment --comment "masquerade traffic for default/shop:http external destinations" -j KUBE-MARK-MASQ',
        f"-A {ext} -j {svc_chain}",
    ]
    assert "31000" not in out
    assert service_external_chain_name("default/web:http", "tcp") not in out
    only_cip = sync_proxy_rules([cip], e)
    assert chain_rules(only_cip, "KUBE-NODEPORTS") == [] and "KUBE-EXT-" not in only_cip


def test_service_without_endpoints_gets_filter_reject_and_no_nat_chains():
    np_svc = svc("shop", "default", "10.96.0.20", "NodePort",
                 [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    out = sync_proxy_rules([svc(), np_svc], {"default/web": {"http": []}})
    filter_part, nat_part = out.split("COMMIT\n")[0], out.split("COMMIT\n")[1]
    assert ('-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http has no endpoints" '
            "-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable") in filter_part.splitlines()
    assert ('-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default/shop:http has no endpoints" '
            "-m addrtype --dst-type LOCAL -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable"
            ) in filter_part.splitlines()
    assert "KUBE-SVC-" not in nat_part and "KUBE-SEP-" not in nat_part and "KUBE-EXT-" not in nat_part
    restore = sync_proxy_rules([svc()], {}, style="restore")
    assert ('-A KUBE-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp '
            "-d 10.96.0.10 --dport 80 -j REJECT") in restore.splitlines()


def test_unnamed_port_udp_and_headless_services():
    dns = svc("kube-dns", "kube-system", "10.96.0.10", ports=[{"port": 53, "protocol": "UDP"}])
    headless = svc("db", ip="None")
    out = sync_proxy_rules([dns, headless], {"kube-system/kube-dns": {"": eps("10.244.0.3", port=53)}})
    chain = "KUBE-SVC-" + upstream_hash("kube-system/kube-dnsudp")
    assert ('-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns cluster IP" '
            f"-m udp --dport 53 -j {chain}") in out.splitlines()
    assert "default/db" not in out


def test_output_is_deterministic_regardless_of_input_order():
    a, b = svc("a", ip="10.96.0.1"), svc("b", ip="10.96.0.2")
    e1 = {"default/a": {"http": eps("10.244.1.1", "10.244.10.1", "10.244.2.1")},
          "default/b": {"http": eps("10.244.3.1")}}
    e2 = {"default/b": {"http": eps("10.244.3.1")},
          "default/a": {"http": list(reversed(eps("10.244.1.1", "10.244.10.1", "10.244.2.1")))}}
    for style in ("save", "restore"):
        first = sync_proxy_rules([a, b], e1, style=style)
        assert first == sync_proxy_rules([b, a], e2, style=style) == sync_proxy_rules([a, b], e1, style=style)
    # endpoints ordered by "ip:port" string, as pkg/proxy/endpointslicecache.go's byEndpoint
    rules = chain_rules(first, service_port_policy_cluster_chain("default/a:http", "tcp"))
    order = [re.search(r"-> (\S+?)\"?\s", r).group(1) for r in rules if "->" in r]
    assert order == ["10.244.1.1:8080", "10.244.10.1:8080", "10.244.2.1:8080"]
    # chain declarations precede rules; KUBE-SERVICES rules for a come before b
    svc_rules = chain_rules(sync_proxy_rules([b, a], e1), "KUBE-SERVICES")
    assert "default/a:http" in svc_rules[0] and "default/b:http" in svc_rules[1]


def test_purity_stdlib_only():
    import simulator.kubeproxy.iptables as mod
    src = open(mod.__file__).read()
    assert not re.search(r"^\s*(import|from)\s+(django|celery|random|time)\b", src, re.M)
