"""The simulated cluster's certificates: a CA named "kubernetes" (as kubeadm names it) and the API server's
serving certificate signed by it, made once and kept in `var/kubeapi/` (the keys never leave the machine).

TLS is not optional: kubectl (client-go) sends a bearer token only over HTTPS, so students' kubeconfigs
point at https:// with the CA's certificate embedded (certificate-authority-data), as kind's do.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 3650


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for h in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    return x509.SubjectAlternativeName(names)


def default_hosts(extra: list[str] | None = None) -> list[str]:
    """localhost, the loopback addresses, this machine's name, the in-cluster names kube-apiserver's
    certificate carries, and any extra names or addresses (KUBEAPI_HOSTS: the address students use)."""
    hosts = ["localhost", "127.0.0.1", "::1", socket.gethostname(), "kubernetes", "kubernetes.default",
             "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.96.0.1"]
    for h in extra or []:
        if h and h not in hosts:
            hosts.append(h)
    return hosts


class Pki:
    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.ca_crt, self.ca_key = self.dir / "ca.crt", self.dir / "ca.key"
        self.crt, self.key = self.dir / "apiserver.crt", self.dir / "apiserver.key"

    def ensure(self, hosts: list[str]) -> None:
        """Make the CA once; make the serving certificate again when the names it must cover changed."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.ca_crt.exists() and self.ca_key.exists()):
            self._make_ca()
        if not (self.crt.exists() and self.key.exists()) or set(self.serving_hosts()) != set(hosts):
            self._make_serving(hosts)

    def ca_pem(self) -> bytes:
        return self.ca_crt.read_bytes()

    def serving_hosts(self) -> list[str]:
        try:
            cert = x509.load_pem_x509_certificate(self.crt.read_bytes())
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except (OSError, ValueError, x509.ExtensionNotFound):
            return []
        return [str(v) for v in san.get_values_for_type(x509.DNSName)] + \
               [str(v) for v in san.get_values_for_type(x509.IPAddress)]

    def _make_ca(self) -> None:
        key = _key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
        now = _dt.datetime.now(_dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - _dt.timedelta(minutes=5))
                .not_valid_after(now + _dt.timedelta(days=VALID_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True,
                                             content_commitment=False, data_encipherment=False, key_agreement=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        _write(self.ca_key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), private=True)
        _write(self.ca_crt, cert.public_bytes(serialization.Encoding.PEM))
        for stale in (self.crt, self.key):  # signed by a CA that is gone
            stale.unlink(missing_ok=True)

    def _make_serving(self, hosts: list[str]) -> None:
        ca_key = serialization.load_pem_private_key(self.ca_key.read_bytes(), None)
        ca = x509.load_pem_x509_certificate(self.ca_crt.read_bytes())
        key = _key()
        now = _dt.datetime.now(_dt.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
                .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - _dt.timedelta(minutes=5)).not_valid_after(now + _dt.timedelta(days=VALID_DAYS))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .add_extension(_san(hosts), critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write(self.key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()), private=True)
        _write(self.crt, cert.public_bytes(serialization.Encoding.PEM))

    def ssl_context(self):
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.crt, self.key)
        return ctx
