"""Delivering one email: through the office's SMTP relay, or into a folder for the demo.

A sender either delivers, or says which of two things went wrong: the mail can never be
delivered (:class:`MailUndeliverable`, e.g. the relay refused the recipient with a 5xx), or it
may work later (:class:`MailRetryLater`: relay down, 4xx, timeout, bad credentials). The outbox
worker turns that into "dead" or "retry with backoff". Errors carry a short code that is safe to
store and log; the relay's own text is not kept, since it often quotes the address.
"""

from __future__ import annotations

import asyncio
import email.policy
import os
import secrets
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import aiosmtplib
import structlog

from agent.mail.emails import Attachment, Mail

if TYPE_CHECKING:
    from agent.config import Email

log = structlog.get_logger("portico.mail")


class MailError(Exception):
    """A failed delivery; ``code`` is short, stable and free of personal data."""

    def __init__(self, code: str, *, smtp_code: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.smtp_code = smtp_code

    @property
    def summary(self) -> str:
        """What the outbox stores in last_error, e.g. ``recipient_refused:550``."""
        text = self.code if self.smtp_code is None else f"{self.code}:{self.smtp_code}"
        return text[:64]


class MailUndeliverable(MailError):
    """This mail can never be delivered as it is (recipient refused, address unusable)."""


class MailRetryLater(MailError):
    """Delivery failed for now; the same mail may go through later.

    ``whole_relay`` is true when the relay itself is the problem (down, timing out, refusing
    our credentials), so other mail would fail the same way right now."""

    def __init__(
        self, code: str, *, smtp_code: int | None = None, whole_relay: bool = True
    ) -> None:
        super().__init__(code, smtp_code=smtp_code)
        self.whole_relay = whole_relay


class MailSender(Protocol):
    async def send(self, mail: Mail) -> None:
        """Deliver ``mail``; raise MailUndeliverable or MailRetryLater if that fails."""
        ...


def build_message(mail: Mail, *, from_address: str) -> EmailMessage:
    """A multipart/alternative message (plain text first, then HTML) for ``mail``; with an
    attachment, that inside a multipart/mixed with the file after it.

    Raises MailUndeliverable if the recipient cannot be put in a header (e.g. a line break)."""
    message = EmailMessage()
    try:
        message["From"] = from_address
        message["To"] = mail.to
        message["Subject"] = mail.subject
    except (ValueError, TypeError):
        raise MailUndeliverable("bad_address") from None
    domain = from_address.rpartition("@")[2] or "localhost"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: auto-responders ("I am on vacation") should not answer portal mail.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    if mail.attachment is not None:
        _attach(message, mail.attachment)
    return message


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    """The file as a text part, with its content type's parameters kept (a calendar client
    reads ``method=REQUEST`` or ``CANCEL`` there, RFC 6047)."""
    kind, _, rest = attachment.content_type.partition(";")
    maintype, _, subtype = kind.strip().lower().partition("/")
    params = {}
    for item in rest.split(";"):
        name, equals, value = item.strip().partition("=")
        if equals and name.strip().lower() != "charset":
            params[name.strip().lower()] = value.strip().strip('"')
    if maintype != "text" or not subtype:
        raise MailUndeliverable("bad_attachment")
    message.add_attachment(
        attachment.text, subtype=subtype, filename=attachment.filename, params=params
    )


class SMTPSender:
    """Sends through the office's relay with aiosmtplib, one connection per mail."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        starttls: bool,
        username: str | None,
        password: str | None,
        from_address: str,
        timeout: float,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._starttls = starttls
        self._username = username or None
        self._password = password if self._username is not None else None
        self._from_address = from_address
        self._timeout = timeout
        self._tls_context = tls_context

    async def send(self, mail: Mail) -> None:
        message = build_message(mail, from_address=self._from_address)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                # False, not None: None would mean "upgrade only if offered", which lets a
                # man in the middle strip STARTTLS and read the links.
                start_tls=self._starttls,
                validate_certs=True,
                tls_context=self._tls_context,
                timeout=self._timeout,
            )
        except Exception as exc:
            raise _classify(exc) from None


def _is_permanent(code: int) -> bool:
    return 500 <= code <= 599


def _classify(exc: Exception) -> MailError:
    """Map an aiosmtplib / socket error to undeliverable or retry-later (order matters: several
    of these classes inherit from each other and from OSError)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        code = codes[0] if codes else None
        if codes and all(_is_permanent(c) for c in codes):
            return MailUndeliverable("recipient_refused", smtp_code=code)
        return MailRetryLater("recipient_deferred", smtp_code=code, whole_relay=False)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        log.warning(
            "mail.relay_auth_failed",
            smtp_code=exc.code,
            hint="the mail relay refused the portal's sign-in; IT should check "
            "email.smtp.username and the password in email.smtp.password_file",
        )
        return MailRetryLater("auth", smtp_code=exc.code)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        # The relay refuses our From address: every mail would fail, so keep them all.
        log.warning(
            "mail.relay_refused_sender",
            smtp_code=exc.code,
            hint="the mail relay refused the sender address; IT should check email.from_address",
        )
        return MailRetryLater("sender_refused", smtp_code=exc.code)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        if _is_permanent(exc.code):
            return MailUndeliverable("message_refused", smtp_code=exc.code)
        return MailRetryLater("message_deferred", smtp_code=exc.code, whole_relay=False)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # Only raised for SMTPUTF8: the address has non-ASCII characters the relay cannot take.
        return MailUndeliverable("address_unsupported")
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return MailRetryLater("timeout")
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return MailRetryLater("relay_not_ready", smtp_code=exc.code)
    if isinstance(exc, aiosmtplib.SMTPConnectError):
        return MailRetryLater("connect")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return MailRetryLater("disconnected")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # e.g. 421 shutting down, 530 "must issue STARTTLS first": about the relay, not the mail.
        if _is_permanent(exc.code):
            log.warning("mail.relay_refused", smtp_code=exc.code, hint="check email.smtp settings")
        return MailRetryLater("relay_refused", smtp_code=exc.code)
    if isinstance(exc, ssl.SSLError):
        log.warning(
            "mail.relay_tls_failed",
            error=type(exc).__name__,
            hint="the mail relay's certificate could not be verified or TLS failed; IT should "
            "check email.smtp.host and the relay's certificate",
        )
        return MailRetryLater("tls")
    if isinstance(exc, aiosmtplib.SMTPException):
        # e.g. STARTTLS or AUTH required by our settings but not offered by the relay.
        log.warning("mail.relay_unsupported", hint="check email.smtp.starttls and username")
        return MailRetryLater("relay_unsupported")
    if isinstance(exc, OSError):
        return MailRetryLater("network")
    if isinstance(exc, ValueError):
        # aiosmtplib refuses addresses that cannot be written on an SMTP command line.
        return MailUndeliverable("bad_address")
    log.error("mail.send_failed", error=type(exc).__name__)
    return MailRetryLater("internal", whole_relay=False)


class FolderSender:
    """Writes each mail as an .eml file (demo and tests): ``<timestamp>-<id>.eml``.

    The file appears complete or not at all (written under a dot-name, then renamed), readable
    only by the agent's user, because it holds one-time links."""

    def __init__(self, directory: Path, from_address: str) -> None:
        self.directory = Path(directory)
        self._from_address = from_address

    async def send(self, mail: Mail) -> None:
        message = build_message(mail, from_address=self._from_address)
        data = message.as_bytes(policy=email.policy.default.clone(utf8=True))
        now = datetime.now(UTC)
        name = f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(6)}.eml"
        try:
            await asyncio.to_thread(self._write, name, data)
        except OSError as exc:
            log.warning("mail.outbox_folder_failed", error=type(exc).__name__)
            raise MailRetryLater("folder") from None

    def _write(self, name: str, data: bytes) -> None:
        if not self.directory.is_dir():
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)  # mkdir's mode is filtered by the umask
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)  # the rename itself survives a power cut
        finally:
            os.close(directory_fd)


def sender_from_config(
    email_config: Email, *, tls_context: ssl.SSLContext | None = None
) -> MailSender:
    """The sender the config asks for. Reads the SMTP password file now, so an unreadable file
    stops the agent at start-up (OSError) instead of failing every mail later."""
    if email_config.mode == "folder":
        return FolderSender(email_config.outbox_dir, email_config.from_address)
    smtp = email_config.smtp
    if smtp is None:  # the config validator already refuses this
        raise ValueError("email.mode is smtp but there is no email.smtp section")
    password = smtp.password_value() if smtp.username else None
    return SMTPSender(
        host=smtp.host,
        port=smtp.port,
        starttls=smtp.starttls,
        username=smtp.username,
        password=password,
        from_address=email_config.from_address,
        timeout=float(smtp.timeout_seconds),
        tls_context=tls_context,
    )
