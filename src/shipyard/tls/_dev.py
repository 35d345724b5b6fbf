"""Development certificates: a local CA, a server certificate for some hosts, and client
certificates naming a principal (``sy:principal/NAME`` as a SAN URI), made with cryptography.

Keys are EC P-256 and written 0600. Nothing here is meant for production: a real
installation uses certificates from its own CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shipyard.errors import Conflict, InvalidInput
from shipyard.names import check_name
from shipyard.tls._peer import PRINCIPAL_URI_PREFIX

CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
SERVER_CERT, SERVER_KEY = "server.pem", "server-key.pem"
_CA_DAYS, _LEAF_DAYS = 3650, 825


@dataclass(frozen=True)
class CertificatePair:
    """Where one certificate and its private key were written."""

    cert: Path
    key: Path


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Write a private key readable by its owner only, created with that mode (no window)."""
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Shipyard development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey, days: int
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / CA_CERT, directory / CA_KEY
    if not cert_path.is_file() or not key_path.is_file():
        raise InvalidInput(
            f"no development CA in {directory}; run `shipyard certs dev` first", field="dir"
        )
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidInput(f"{key_path} is not an EC private key", field="dir")
    return cert, key


def make_ca(directory: Path, *, force: bool = False) -> CertificatePair:
    """A new self-signed CA in ``directory``; an existing one is kept unless ``force``."""
    cert_path, key_path = directory / CA_CERT, directory / CA_KEY
    if (cert_path.exists() or key_path.exists()) and not force:
        raise Conflict(
            f"a CA already exists in {directory}; pass --force to replace it "
            "(certificates it signed stop being trusted)",
            field="dir",
        )
    directory.mkdir(parents=True, exist_ok=True)
    key = _new_key()
    name = _name("Shipyard development CA")
    cert = (
        _builder(name, name, key.public_key(), _CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    _write_cert(cert_path, cert)
    return CertificatePair(cert_path, key_path)


def _leaf(
    directory: Path,
    stem: str,
    common_name: str,
    names: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
) -> CertificatePair:
    ca_cert, ca_key = _load_ca(directory)
    key = _new_key()
    cert = (
        _builder(_name(common_name), ca_cert.subject, key.public_key(), _LEAF_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pair = CertificatePair(directory / f"{stem}.pem", directory / f"{stem}-key.pem")
    _write_key(pair.key, key)
    _write_cert(pair.cert, cert)
    return pair


def parse_hosts(hosts: str) -> list[str]:
    """``localhost,127.0.0.1`` as a list; each a DNS name or an IP address."""
    parsed = [host.strip() for host in hosts.split(",") if host.strip()]
    if not parsed:
        raise InvalidInput("name at least one host", field="hosts")
    for host in parsed:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            labels = host.removeprefix("*.").split(".")
            if not all(
                label.isascii() and len(label) <= 63 and label.replace("-", "").isalnum()
                for label in labels
            ):
                raise InvalidInput(
                    f"{host!r} is not a host name or IP address", field="hosts"
                ) from None
    return parsed


def make_server_cert(directory: Path, hosts: list[str]) -> CertificatePair:
    """A server certificate for ``hosts`` (DNS names and IP addresses as SANs)."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return _leaf(directory, "server", hosts[0], names, ExtendedKeyUsageOID.SERVER_AUTH)


def make_client_cert(directory: Path, principal: str) -> CertificatePair:
    """A client certificate for ``principal``: CN and the SAN URI ``sy:principal/NAME``."""
    check_name(principal, field="client")
    uri = x509.UniformResourceIdentifier(f"{PRINCIPAL_URI_PREFIX}{principal}")
    return _leaf(
        directory, f"client-{principal}", principal, [uri], ExtendedKeyUsageOID.CLIENT_AUTH
    )
