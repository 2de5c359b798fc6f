"""Identities: key pairs, self-signed certificates, and the pins that name them."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given
from hypothesis import strategies as st

from protocol.keys import generate_identity, normalise_pin, spki_pin, write_identity


def manual_pin(cert: x509.Certificate) -> str:
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.mark.parametrize(
    ("algorithm", "key_type"),
    [("ed25519", ed25519.Ed25519PrivateKey), ("ec", ec.EllipticCurvePrivateKey)],
)
def test_generate_identity(algorithm: str, key_type: type) -> None:
    key_pem, cert_pem = generate_identity("agent.example", algorithm=algorithm)  # type: ignore[arg-type]
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, not encrypted
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, key_type)
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == "CN=agent.example"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime.days >= 20 * 365
    assert key.public_key() == cert.public_key()


def test_serials_are_random() -> None:
    serials = {
        x509.load_pem_x509_certificate(generate_identity("x")[1]).serial_number for _ in range(3)
    }
    assert len(serials) == 3


def test_pin_is_sha256_of_spki_and_stable_across_encodings() -> None:
    _, cert_pem = generate_identity("proxy")
    cert = x509.load_pem_x509_certificate(cert_pem)
    pin = spki_pin(cert_pem)
    assert pin == manual_pin(cert)
    assert pin == spki_pin(cert_pem)
    assert pin == spki_pin(cert.public_bytes(serialization.Encoding.DER))
    assert pin.startswith("sha256/") and len(base64.b64decode(pin[7:])) == 32
    assert pin != spki_pin(generate_identity("proxy")[1])  # a new key is a new pin


def test_write_identity_modes_and_pin(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    pin = write_identity(directory, "agent")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / "cert.pem").stat().st_mode) == 0o644
    assert pin == spki_pin((directory / "cert.pem").read_bytes())
    key = serialization.load_pem_private_key((directory / "key.pem").read_bytes(), None)
    assert (
        key.public_key()
        == x509.load_pem_x509_certificate((directory / "cert.pem").read_bytes()).public_key()
    )


def test_write_identity_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_identity(tmp_path / "identity", "agent")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "identity" / "key.pem").stat().st_mode) == 0o600


def test_write_identity_refuses_to_overwrite_a_key(tmp_path: Path) -> None:
    pin = write_identity(tmp_path, "agent")
    key_before = (tmp_path / "key.pem").read_bytes()
    cert_before = (tmp_path / "cert.pem").read_bytes()
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_identity(tmp_path, "agent")
    assert (tmp_path / "key.pem").read_bytes() == key_before
    assert (tmp_path / "cert.pem").read_bytes() == cert_before
    assert spki_pin(cert_before) == pin


def test_normalise_pin_accepts_valid_pins() -> None:
    pin = spki_pin(generate_identity("x")[1])
    assert normalise_pin(pin) == pin
    assert normalise_pin(f"  {pin}\n") == pin


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sha256/",
        "sha1/" + base64.b64encode(bytes(20)).decode(),
        "SHA256/" + base64.b64encode(bytes(32)).decode(),
        base64.b64encode(bytes(32)).decode(),  # no prefix
        "sha256/" + base64.b64encode(bytes(31)).decode(),
        "sha256/" + base64.b64encode(bytes(33)).decode(),
        "sha256/" + base64.urlsafe_b64encode(b"\xff" * 32).decode(),  # URL-safe alphabet
        "sha256/" + base64.b64encode(bytes(32)).decode().rstrip("="),  # padding stripped
        "sha256/" + "!" * 44,
    ],
)
def test_normalise_pin_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="pin"):
        normalise_pin(bad)


@given(st.binary(min_size=32, max_size=32))
def test_every_sha256_digest_makes_a_canonical_pin(digest: bytes) -> None:
    pin = "sha256/" + base64.b64encode(digest).decode()
    assert normalise_pin(pin) == pin


@given(st.binary(max_size=64).filter(lambda b: len(b) != 32))
def test_digests_of_the_wrong_length_are_rejected(digest: bytes) -> None:
    with pytest.raises(ValueError, match="32"):
        normalise_pin("sha256/" + base64.b64encode(digest).decode())
