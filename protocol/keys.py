"""The link's key material: identities, pins and the files that hold them.

Trust on the link is a set of pins (``sha256/`` + the base64 SHA-256 of a key's DER
SubjectPublicKeyInfo), not a CA. This module makes and writes identities, computes and validates
pins, and loads a key pair for :mod:`protocol.tls`, which owns the TLS engine itself; the
configs and ``init-keys`` commands need only this half.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

_PIN_PREFIX = "sha256/"
_TLS13_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})


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
    return _PIN_PREFIX + base64.b64encode(hashlib.sha256(spki_der(cert)).digest()).decode("ascii")


def load_cert(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def spki_pin(cert: bytes) -> str:
    """The pin of a PEM or DER certificate: ``sha256/<base64 SHA-256 of its DER SPKI>``."""
    return pin_of(load_cert(cert))


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


# What config/*.example.yaml hold where a real pin goes: well-formed, so the examples show the
# shape, but plainly not one. Refused like a malformed pin: a config left with it would make
# every peer's key look unknown, with nothing saying why.
PLACEHOLDER_PIN = _PIN_PREFIX + "PASTE+THE+REAL+PIN+YOU+WERE+SENT+RIGHT+HERE="


def normalise_pin(pin: str) -> str:
    """Validate ``sha256/<standard base64 of 32 bytes>`` and return it in canonical form.

    :data:`PLACEHOLDER_PIN` is refused."""
    text = pin.strip()
    if not text.startswith(_PIN_PREFIX):
        raise ValueError(f"pin {pin!r} must start with {_PIN_PREFIX!r}")
    try:
        digest = base64.b64decode(text[len(_PIN_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"pin {pin!r} is not standard base64 after {_PIN_PREFIX!r}") from None
    if len(digest) != 32:
        raise ValueError(f"pin {pin!r} decodes to {len(digest)} bytes; a SHA-256 pin has 32")
    canonical = _PIN_PREFIX + base64.b64encode(digest).decode("ascii")
    if canonical == PLACEHOLDER_PIN:
        raise ValueError(
            "this is the example's placeholder, not a pin: paste the real pin (sha256/...) "
            "you were sent in its place"
        )
    return canonical


PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Identity:
    """A loaded key pair, kept so that the trusted pins can change without reading it again."""

    key: PrivateKey
    cert: x509.Certificate


def load_identity(key_file: Path, cert_file: Path) -> Identity:
    """Read a key pair for the link, refusing one that TLS 1.3 could not use or that does not
    match."""
    cert = load_cert(cert_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)):
        raise ValueError(f"{key_file}: unsupported key type (use an Ed25519 or EC key)")
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in _TLS13_CURVES:
        # TLS 1.3 signs with ECDSA on these curves only: any other would fail every handshake.
        raise ValueError(f"{key_file}: EC key on {key.curve.name}; use P-256, P-384 or P-521")
    if spki_der(key) != spki_der(cert):
        raise ValueError(f"{key_file} does not match the certificate in {cert_file}")
    return Identity(key, cert)


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
