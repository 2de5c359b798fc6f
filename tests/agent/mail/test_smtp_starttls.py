"""The office relay wants STARTTLS and a sign-in, and its certificate is checked."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import structlog

from agent.config import Email
from agent.mail.emails import MailTemplates
from agent.mail.outbox import MailRetryLater, SMTPSender, sender_from_config
from tests.support.keys import RelayCertificate, self_signed_certificate
from tests.support.smtp import Credentials, RecordingHandler, smtp_server

PORTAL = "https://example-clinic.portal.example.com"
templates = MailTemplates(
    practice_name="Example Family Clinic", practice_phone="+1 555 0100", portal_url=PORTAL
)
MAIL = templates.reset_password(to="ann@example.org", first_name="Ann", token="tok-123")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> RelayCertificate:
    return self_signed_certificate(tmp_path_factory.mktemp("relay"))


def sender(port: int, password: str, tls_context: ssl.SSLContext | None) -> SMTPSender:
    return SMTPSender(
        host="127.0.0.1",
        port=port,
        starttls=True,
        username="portal",
        password=password,
        from_address="portal@example-clinic.com",
        timeout=5,
        tls_context=tls_context,
    )


async def test_starttls_and_auth_deliver(certificate: RelayCertificate) -> None:
    handler, credentials = RecordingHandler(), Credentials("portal", "s3cret relay pw")
    with smtp_server(
        handler, tls_context=certificate.server_context(), authenticator=credentials
    ) as relay:
        await sender(relay.port, "s3cret relay pw", certificate.client_context()).send(MAIL)
    [received] = handler.received
    assert received.over_tls and received.authenticated_as == "portal"
    assert f"{PORTAL}/reset?token=tok-123" in received.part("text/plain")


async def test_wrong_password_is_retried_later_and_tells_it_what_to_check(
    certificate: RelayCertificate,
) -> None:
    handler, credentials = RecordingHandler(), Credentials("portal", "s3cret relay pw")
    with (
        smtp_server(
            handler, tls_context=certificate.server_context(), authenticator=credentials
        ) as relay,
        structlog.testing.capture_logs() as logs,
        pytest.raises(MailRetryLater) as failed,
    ):
        await sender(relay.port, "wrong", certificate.client_context()).send(MAIL)
    assert failed.value.code == "auth" and failed.value.whole_relay
    assert credentials.attempts >= 1 and handler.received == []
    [warning] = logs
    assert warning["log_level"] == "warning" and warning["event"] == "mail.relay_auth_failed"
    assert "smtp.password_file" in warning["hint"]
    assert "wrong" not in repr(logs) and "ann@example.org" not in repr(logs)


async def test_an_untrusted_relay_certificate_is_refused_by_default(
    certificate: RelayCertificate,
) -> None:
    """No tls_context: the system's trust store decides, and it does not know this one."""
    handler, credentials = RecordingHandler(), Credentials("portal", "pw")
    with (
        smtp_server(
            handler, tls_context=certificate.server_context(), authenticator=credentials
        ) as relay,
        structlog.testing.capture_logs() as logs,
        pytest.raises(MailRetryLater) as failed,
    ):
        await sender(relay.port, "pw", None).send(MAIL)
    assert failed.value.code == "tls"
    assert credentials.attempts == 0 and handler.received == []  # the password never left
    assert [e["event"] for e in logs] == ["mail.relay_tls_failed"]


async def test_starttls_is_not_skipped_when_the_relay_does_not_offer_it() -> None:
    """A relay (or someone in between) that does not offer STARTTLS gets nothing in clear."""
    handler = RecordingHandler()
    with smtp_server(handler) as relay, pytest.raises(MailRetryLater) as failed:
        await sender(relay.port, "pw", ssl.create_default_context()).send(MAIL)
    assert failed.value.code == "relay_unsupported"
    assert handler.received == []


async def test_sender_from_config_reads_the_password_file(
    certificate: RelayCertificate, tmp_path: Path
) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret relay pw\n")
    secret.chmod(0o600)
    handler, credentials = RecordingHandler(), Credentials("portal", "s3cret relay pw")
    with smtp_server(
        handler, tls_context=certificate.server_context(), authenticator=credentials
    ) as relay:
        config = Email.model_validate(
            {
                "mode": "smtp",
                "from_address": "portal@example-clinic.com",
                "smtp": {
                    "host": "127.0.0.1",
                    "port": relay.port,
                    "username": "portal",
                    "password_file": str(secret),
                    "timeout_seconds": 5,
                },
            }
        )
        mail_sender = sender_from_config(config, tls_context=certificate.client_context())
        assert isinstance(mail_sender, SMTPSender)
        await mail_sender.send(MAIL)
    [received] = handler.received
    assert received.over_tls and received.authenticated_as == "portal"
    assert received.mail_from == "portal@example-clinic.com"


def test_sender_from_config_folder_mode(tmp_path: Path) -> None:
    from agent.mail.outbox import FolderSender

    config = Email.model_validate({"mode": "folder", "outbox_dir": str(tmp_path / "out")})
    folder = sender_from_config(config)
    assert isinstance(folder, FolderSender) and folder.directory == tmp_path / "out"
