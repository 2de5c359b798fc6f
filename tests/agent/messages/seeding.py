"""Plant office messages in a test database, exactly as `portico-agent messages send` would.

For the messages tests here and for other suites (proxy pages, browser) that need a patient
with messages. The same checks (agent.messages.rules) and the same writer
(agent.messages.service.write_office_message) as the CLI: thread, message, attachments, audit
row, and the notice email in the outbox when the patient has an active, enabled account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agent.db.pool import DatabaseSettings
from agent.mail.emails import MailTemplates
from agent.messages.office import OfficeMessage, write_office_message
from agent.messages.rules import check_attachment, clean_author, clean_body, clean_subject
from agent.store.portico.lookups import PorticoLookups
from tests.support.database import connect
from tests.support.practice import NOW

# tests/support/practice.py's practice (agent_config_data).
PRACTICE_NAME = "Example Family Clinic"
PRACTICE_PHONE = "+1 555 0100"
PORTAL_URL = "http://example-clinic.localhost:8080"
STAFF_ACTOR = "staff:test"


def send_office_message(
    settings: DatabaseSettings,
    patient_id: int,
    subject: str,
    body: str,
    attachments: Sequence[tuple[str, bytes]] = (),
    *,
    author: str = PRACTICE_NAME,
    thread_id: int | None = None,
    replies_allowed: bool = True,
    now: datetime = NOW,
    portal_url: str = PORTAL_URL,
) -> int:
    """Send `body` to the patient as the office; returns the thread id.

    `attachments` are (file name, content) pairs: pdf, png, jpg/jpeg or txt, at most 3 MiB
    each, content matching the type. With `thread_id` the message answers in that thread of
    the patient's and `subject` is ignored. Raises MessageRefused as the CLI would refuse."""
    message = OfficeMessage(
        patient_id=patient_id,
        subject=None if thread_id is not None else clean_subject(subject),
        body=clean_body(body),
        author=clean_author(author),
        thread_id=thread_id,
        attachments=tuple(check_attachment(name, data) for name, data in attachments),
        replies_allowed=replies_allowed,
    )
    templates = MailTemplates(
        practice_name=PRACTICE_NAME, practice_phone=PRACTICE_PHONE, portal_url=portal_url
    )
    connection = connect(settings, dict_rows=True, autocommit=False)
    with connection:
        with connection.cursor() as cursor:
            cursor.execute("SET time_zone = '+00:00'")
            sent = write_office_message(
                cursor,
                message,
                actor=STAFF_ACTOR,
                now=now,
                notice=templates.new_message_notice,
                lookups=PorticoLookups(),
            )
        connection.commit()
    return sent.thread_id
