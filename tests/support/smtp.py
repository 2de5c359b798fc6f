"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for the mail tests.

aiosmtpd's Controller runs the server on its own thread and event loop, so the code under test
talks to it over a real socket exactly as it would to the office's relay.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.ports import free_port


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


@contextmanager
def mail_relay() -> Iterator[tuple[RecordingHandler, int]]:
    """A recording aiosmtpd server on loopback: (handler, port)."""
    handler = RecordingHandler()
    with smtp_server(handler) as controller:
        yield handler, int(controller.port)
