"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for the mail tests.

aiosmtpd's Controller runs the server on its own thread and event loop, so the code under test
talks to it over a real socket exactly as it would to the office's relay.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Received:
    """One message as the relay got it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    authenticated_as: str | None
    over_tls: bool

    def part(self, content_type: str) -> str:
        found = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        assert found is not None and found.get_content_type() == content_type
        return str(found.get_content())


class RecordingHandler:
    """Accepts everything except the recipients in ``refuse`` (answered with a 550)."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.refuse = set(refuse or ())
        self._lock = threading.Lock()
        self._received: list[Received] = []

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        login = session.auth_data.login.decode() if session.authenticated else None
        with self._lock:
            self._received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    raw=raw,
                    message=message,  # type: ignore[arg-type]
                    authenticated_as=login,
                    over_tls=session.ssl is not None,
                )
            )
        return "250 Message accepted for delivery"


class Credentials:
    """An aiosmtpd authenticator accepting one login and password."""

    def __init__(self, login: str, password: str) -> None:
        self.login = login
        self.password = password
        self.attempts = 0

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.attempts += 1
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.login
            and auth_data.password.decode() == self.password
        )
        # handled=False: aiosmtpd answers a failure with its own 535.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    """A loopback port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(
    handler: RecordingHandler,
    *,
    port: int | None = None,
    tls_context: ssl.SSLContext | None = None,
    authenticator: Credentials | None = None,
) -> Iterator[Controller]:
    """Serve on 127.0.0.1; with ``tls_context`` STARTTLS is required, with ``authenticator``
    AUTH is required (only after STARTTLS)."""
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port if port is not None else free_port(),
        tls_context=tls_context,
        require_starttls=tls_context is not None,
        authenticator=authenticator,
        auth_required=authenticator is not None,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


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
