"""A side's key pair and the pins that name keys: made with `cryptography`, written once.

A pin is ``sha256/<base64 of SHA-256 over the DER SubjectPublicKeyInfo>``: it names the key, not
the certificate, so re-issuing a certificate for the same key keeps it (docs/protocol.md §2).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import os
import sys
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

PIN_PREFIX = "sha256/"


def generate_identity(
    common_name: str, *, algorithm: Literal["ed25519", "ec"] = "ed25519"
) -> tuple[bytes, bytes]:
    """A new key and self-signed certificate: ``(key_pem, cert_pem)``.

    The key is unencrypted PKCS8 (file permissions protect it); the certificate has a random
    serial, is valid from a day ago for 20 years, and is marked critical CA:FALSE."""
    key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"unknown key algorithm {algorithm!r}: use 'ed25519' or 'ec'")
    return identity_pem(key, common_name)


def identity_pem(key: CertificateIssuerPrivateKeyTypes, common_name: str) -> tuple[bytes, bytes]:
    """``(key_pem, cert_pem)`` for `key`, with generate_identity's certificate."""
    digest = (
        None
        if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
        else (hashes.SHA256())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=20 * 365 + 5))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, digest)
    )
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(pem, pkcs8, serialization.NoEncryption()), cert.public_bytes(pem)


def spki_der(
    key: x509.Certificate | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
) -> bytes:
    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(der, spki)


def pin_of(cert: x509.Certificate) -> str:
    return PIN_PREFIX + base64.b64encode(hashlib.sha256(spki_der(cert)).digest()).decode("ascii")


def load_certificate(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def spki_pin(cert: bytes) -> str:
    """The pin of a PEM or DER certificate: ``sha256/<base64 SHA-256 of its DER SPKI>``."""
    return pin_of(load_certificate(cert))


def write_identity(directory: Path, common_name: str) -> str:
    """Write a new identity as ``key.pem`` (0600) and ``cert.pem`` (0644); return its pin.

    The directory is created 0700 if new. The key file is created with O_EXCL and mode 0600 in
    one call, so it is never readable by others even briefly, and an existing key is never
    overwritten: losing it would silently unpin this side everywhere."""
    key_pem, cert_pem = generate_identity(common_name)
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask; be exact
    key_path = directory / "key.pem"
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FileExistsError(
            f"{key_path} already exists; refusing to overwrite a private key "
            "(move it away first if you really want a new identity)"
        ) from None
    _write(fd, key_pem, 0o600)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    _write(os.open(directory / "cert.pem", flags, 0o644), cert_pem, 0o644)
    return spki_pin(cert_pem)


def _write(fd: int, data: bytes, mode: int) -> None:
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)  # exactly this mode, whatever the umask
        f.write(data)


def normalise_pin(pin: str) -> str:
    """Validate ``sha256/<standard base64 of 32 bytes>`` and return it in canonical form."""
    text = pin.strip()
    if not text.startswith(PIN_PREFIX):
        raise ValueError(f"pin {pin!r} must start with {PIN_PREFIX!r}")
    try:
        digest = base64.b64decode(text[len(PIN_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"pin {pin!r} is not standard base64 after {PIN_PREFIX!r}") from None
    if len(digest) != 32:
        raise ValueError(f"pin {pin!r} decodes to {len(digest)} bytes; a SHA-256 pin has 32")
    return PIN_PREFIX + base64.b64encode(digest).decode("ascii")


def init_keys_command(directory: Path, common_name: str) -> int:
    """`portico-agent init-keys DIR` and `portico-proxy init-keys DIR`: write a new identity,
    print its pin (what the other side puts in its config) and the files written."""
    try:
        pin = write_identity(directory, common_name)
    except (FileExistsError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(pin)
    print(directory / "key.pem")
    print(directory / "cert.pem")
    return 0
