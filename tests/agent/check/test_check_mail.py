"""The mail item: a real relay (aiosmtpd) is talked to up to EHLO / STARTTLS / sign-in and
never sent a message; a closed port or a relay that cannot do what the config asks fails; in
folder mode the outbox folder must take a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.check.network import check_mail
from agent.config import Email
from tests.support.keys import self_signed_certificate
from tests.support.ports import free_port
from tests.support.smtp import Credentials, RecordingHandler, smtp_server


def smtp(port: int, **settings: Any) -> Email:
    return Email.model_validate(
        {
            "mode": "smtp",
            "from_address": "portal@example.org",
            "smtp": {"host": "127.0.0.1", "port": port, "starttls": False, **settings},
        }
    )


def test_a_relay_that_answers_is_ok_and_gets_no_mail() -> None:
    handler = RecordingHandler()
    with smtp_server(handler) as relay:
        result = check_mail(smtp(relay.port))

    assert result.status.value == "OK"
    assert result.summary == f"relay 127.0.0.1:{relay.port} answered (EHLO OK); no mail was sent"
    assert handler.received == []


def test_a_closed_relay_port_fails_with_the_settings_to_check() -> None:
    port = free_port()

    result = check_mail(smtp(port, timeout_seconds=2))

    assert result.status.value == "FAIL"
    assert result.summary == f"nothing answers as a mail relay at 127.0.0.1:{port}"
    assert "email.smtp.host and email.smtp.port" in result.fix[0]


def test_starttls_and_sign_in_are_tried_when_configured(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    (tmp_path / "smtp-password").write_text("relay-secret-1\n")
    credentials = Credentials("portal", "relay-secret-1")
    handler = RecordingHandler()
    with smtp_server(
        handler, tls_context=certificate.server_context(), authenticator=credentials
    ) as relay:
        email = smtp(
            relay.port,
            starttls=True,
            username="portal",
            password_file=str(tmp_path / "smtp-password"),
        )
        result = check_mail(email, tls_context=certificate.client_context())

    assert result.summary.endswith("answered (EHLO, STARTTLS, sign-in OK); no mail was sent")
    assert credentials.attempts == 1
    assert handler.received == []


def test_a_wrong_relay_password_fails(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    (tmp_path / "smtp-password").write_text("not-the-password\n")
    with smtp_server(
        RecordingHandler(),
        tls_context=certificate.server_context(),
        authenticator=Credentials("portal", "relay-secret-1"),
    ) as relay:
        email = smtp(
            relay.port,
            starttls=True,
            username="portal",
            password_file=str(tmp_path / "smtp-password"),
        )
        result = check_mail(email, tls_context=certificate.client_context())

    assert result.status.value == "FAIL"
    assert result.summary.startswith(f"the relay at 127.0.0.1:{relay.port} refused the sign-in")


def test_a_relay_certificate_this_server_does_not_trust_fails(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    with smtp_server(RecordingHandler(), tls_context=certificate.server_context()) as relay:
        result = check_mail(smtp(relay.port, starttls=True))  # the system's CAs only

    assert result.status.value == "FAIL"
    assert "certificate could not be verified" in result.summary


def test_starttls_configured_but_not_offered_fails() -> None:
    with smtp_server(RecordingHandler()) as relay:
        result = check_mail(smtp(relay.port, starttls=True))

    assert result.summary == f"the relay at 127.0.0.1:{relay.port} does not offer STARTTLS"


def test_folder_mode_needs_a_writable_folder(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()

    result = check_mail(Email(mode="folder", outbox_dir=outbox))

    assert result.status.value == "WARN"  # patients get no email: test_fix_check_email_folder.py
    assert result.summary.endswith(f"it is written to {outbox} (is writable)")
    assert list(outbox.iterdir()) == []  # the probe file is gone


def test_folder_mode_fails_when_the_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")

    result = check_mail(Email(mode="folder", outbox_dir=tmp_path / "a-file" / "outbox"))

    assert result.status.value == "FAIL"
    assert result.summary.endswith(f"{tmp_path / 'a-file'} is a file")
