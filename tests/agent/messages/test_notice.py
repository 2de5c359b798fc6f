"""The new-message notice: queued with the office message, in the same transaction, only for
a patient who can sign in to read it, and holding nothing of the message itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.clock import FixedClock
from agent.db import Database
from agent.db.pool import DatabaseSettings
from agent.mail.emails import MailTemplates
from agent.messages.office import OfficeMessage
from agent.messages.rules import Attachment, MessageRefused
from agent.messages.service import MessageService
from agent.store.portico import PorticoStore
from tests.agent.access_fixtures import PORTAL_URL, AccessPractice, email_of, text_of
from tests.agent.messages.seeding import send_office_message
from tests.support.database import execute, query
from tests.support.practice import NOW, TIMEZONE

A, B = 1, 2
SUBJECT = "Your biopsy result"
BODY = "The biopsy of your left arm came back benign."
FILENAME = "pathology-report.pdf"


@pytest.fixture
async def service(practice_db: DatabaseSettings) -> AsyncIterator[MessageService]:
    """The service the CLI uses, with no agent running: nothing delivers the outbox."""
    db = Database(practice_db)
    templates = MailTemplates(
        practice_name="Example Family Clinic", practice_phone="+1 555 0100", portal_url=PORTAL_URL
    )
    try:
        yield MessageService(
            db,
            FixedClock(NOW),
            ZoneInfo(TIMEZONE),
            practice_name="Example Family Clinic",
            notice=templates.new_message_notice,
            lookups=PorticoStore(db),
        )
    finally:
        await db.close()


def give_account(settings: DatabaseSettings, patient: int, status: str, enabled: bool) -> None:
    execute(
        settings,
        "INSERT INTO portal_accounts (patient_id, email, login_email, status, access_enabled,"
        " created_at) VALUES (%s, %s, %s, %s, %s, '2026-01-01')",
        (patient, email_of(patient), email_of(patient), status, int(enabled)),
    )


def outbox(settings: DatabaseSettings) -> list[dict[str, Any]]:
    return query(settings, "SELECT to_address, subject, body_text, body_html FROM portal_outbox")


def message(patient: int = A, **fields: Any) -> OfficeMessage:
    defaults: dict[str, Any] = {
        "subject": SUBJECT,
        "body": BODY,
        "author": "Dr. Adams",
        "attachments": (Attachment(FILENAME, "application/pdf", b"%PDF-1.4\n"),),
    }
    return OfficeMessage(patient_id=patient, **{**defaults, **fields})


async def test_an_active_enabled_account_gets_one_notice_without_the_message(
    service: MessageService, practice_db: DatabaseSettings
) -> None:
    give_account(practice_db, A, "active", True)
    sent = await service.send("staff:test", message())
    assert sent.notice_queued is True
    (mail,) = outbox(practice_db)
    assert mail["to_address"] == email_of(A)
    assert mail["subject"] == "You have a new message from Example Family Clinic"
    assert f"{PORTAL_URL}/messages" in mail["body_text"]
    assert f"{PORTAL_URL}/messages" in mail["body_html"]
    everything = repr(mail).lower()
    for secret in (SUBJECT, "biopsy", "benign", FILENAME, "Dr. Adams", "1970-01-01"):
        assert secret.lower() not in everything
    # The first name greets the patient; the last name ("Example") only in the clinic's name.
    assert "example" not in everything.replace("example family clinic", "").replace(
        "example-clinic", ""
    ).replace("example.org", "")


@pytest.mark.parametrize(
    ("status", "enabled"),
    [(None, False), ("invited", False), ("pending", False), ("active", False)],
    ids=["no account", "invited", "pending", "access disabled"],
)
async def test_a_patient_who_cannot_sign_in_is_not_mailed_but_gets_the_message(
    service: MessageService, practice_db: DatabaseSettings, status: str | None, enabled: bool
) -> None:
    if status is not None:
        give_account(practice_db, A, status, enabled)
    sent = await service.send("staff:test", message())
    assert sent.notice_queued is False
    assert outbox(practice_db) == []
    assert query(practice_db, "SELECT COUNT(*) AS n FROM portal_messages") == [{"n": 1}]


async def test_a_refused_send_writes_neither_message_nor_mail(
    service: MessageService, practice_db: DatabaseSettings
) -> None:
    give_account(practice_db, A, "active", True)
    b_thread = send_office_message(practice_db, B, "For B", "Private.")
    with pytest.raises(MessageRefused) as refused:
        await service.send("staff:test", message(subject=None, thread_id=b_thread))
    assert str(refused.value) == f"thread: patient {A} has no message thread {b_thread}"
    assert query(practice_db, "SELECT patient_id FROM portal_messages") == [{"patient_id": B}]
    assert outbox(practice_db) == []
    assert query(
        practice_db,
        "SELECT patient_id, outcome, detail FROM portal_audit"
        " WHERE action = 'message.send' AND outcome <> 'ok'",
    ) == [{"patient_id": A, "outcome": "not_found", "detail": f"thread:{b_thread}"}]


async def test_sending_to_a_patient_who_does_not_exist_is_refused(
    service: MessageService, practice_db: DatabaseSettings
) -> None:
    with pytest.raises(MessageRefused) as refused:
        await service.send("staff:test", message(patient=9999))
    assert str(refused.value) == "patient: there is no patient 9999"
    assert query(practice_db, "SELECT COUNT(*) AS n FROM portal_message_threads") == [{"n": 0}]


async def test_the_notice_reaches_the_patient_through_the_relay(office: AccessPractice) -> None:
    await office.signed_in_patient(A)
    send_office_message(office.settings, A, SUBJECT, BODY, [(FILENAME, b"%PDF-1.4\n")])
    mail = await office.one_mail(email_of(A))
    shown = "\n".join([str(mail.message["Subject"]), text_of(mail), mail.part("text/html")])
    assert f"{PORTAL_URL}/messages" in shown
    assert "biopsy" not in shown.lower() and FILENAME not in shown
