"""Key pairs, certificates and pins for tests: the link's identities as
`portico-agent init-keys` writes them, and a TLS certificate for a loopback server (the SMTP
relay)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from protocol.keys import generate_identity, spki_pin, write_identity


@dataclass(frozen=True)
class Identity:
    key_file: Path
    cert_file: Path
    pin: str


def make_identity(
    directory: Path, name: str, algorithm: Literal["ed25519", "ec"] = "ed25519"
) -> Identity:
    """A key pair and self-signed certificate on disk, as the CLI would write them."""
    if algorithm == "ed25519":
        pin = write_identity(directory, name)
    else:
        directory.mkdir(parents=True)
        key_pem, cert_pem = generate_identity(name, algorithm=algorithm)
        (directory / "key.pem").write_bytes(key_pem)
        (directory / "cert.pem").write_bytes(cert_pem)
        pin = spki_pin(cert_pem)
    return Identity(directory / "key.pem", directory / "cert.pem", pin)


def make_keys(directory: Path) -> Path:
    """agent/ and proxy/ identities in `directory`, with agent.pin and proxy.pin beside them."""
    (directory / "agent.pin").write_text(write_identity(directory / "agent", "portico-agent"))
    (directory / "proxy.pin").write_text(write_identity(directory / "proxy", "portico-proxy"))
    return directory


@dataclass(frozen=True)
class RelayCertificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies the relay's certificate and name as usual, trusting only this one."""
        return ssl.create_default_context(cafile=str(self.cert_file))


def self_signed_certificate(directory: Path) -> RelayCertificate:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portico test relay")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "relay-cert.pem", directory / "relay-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return RelayCertificate(cert_file, key_file)
