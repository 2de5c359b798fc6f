"""Queued mail reaches a real SMTP server, once, with only what it must carry."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from agent.clock import FixedClock
from agent.db.pool import Database, DatabaseSettings
from agent.mail.emails import Mail, MailTemplates
from agent.mail.outbox import OutboxWorker, SMTPSender, enqueue
from tests.support.database import MariaDB, fresh_database, query
from tests.support.smtp import RecordingHandler, smtp_server

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PORTAL = "https://example-clinic.portal.example.com"
FROM = "portal@example-clinic.com"
templates = MailTemplates(
    practice_name="Example Family Clinic", practice_phone="+1 555 0100", portal_url=PORTAL
)


@pytest.fixture
async def outbox_db(mariadb: MariaDB) -> AsyncIterator[tuple[Database, DatabaseSettings]]:
    with fresh_database(mariadb) as settings:
        db = Database(settings)
        try:
            yield db, settings
        finally:
            await db.close()


def rows(settings: DatabaseSettings) -> list[dict[str, Any]]:
    return query(settings, "SELECT * FROM portal_outbox ORDER BY id")


async def queue(db: Database, mail: Mail, now: datetime = NOW) -> int:
    return await db.transaction(lambda cursor: enqueue(cursor, mail, now=now))


def plain_sender(port: int) -> SMTPSender:
    return SMTPSender(
        host="127.0.0.1",
        port=port,
        starttls=False,
        username=None,
        password=None,
        from_address=FROM,
        timeout=5,
    )


async def test_queued_invite_is_delivered_with_text_and_html_and_then_blanked(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    db, settings = outbox_db
    token = secrets.token_urlsafe(32)
    address = "margaret.oyelaran@example.org"
    outbox_id = await queue(db, templates.invite(to=address, first_name="Margaret", token=token))
    handler = RecordingHandler()
    with smtp_server(handler) as relay, structlog.testing.capture_logs() as logs:
        worker = OutboxWorker(db, plain_sender(relay.port), FixedClock(NOW))
        assert await worker.run_once() == 1
        assert await worker.run_once() == 0  # sent is sent

    [received] = handler.received
    assert received.mail_from == FROM and received.rcpt_tos == [address]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"] == address and message["From"] == FROM
    assert message["Subject"] == "Your invitation to the Example Family Clinic patient portal"
    assert message["Date"] and message["Message-ID"].endswith("@example-clinic.com>")
    link = f"{PORTAL}/activate?token={token}"
    text, html = received.part("text/plain"), received.part("text/html")
    assert link in text and f'href="{link}"' in html
    assert "Hello Margaret," in text and "Hello Margaret," in html
    # Nothing personal but the first name: the address is on the envelope and in To only.
    assert address not in text + html and "Oyelaran" not in text + html
    assert "Oyelaran" not in message["Subject"]

    [row] = rows(settings)
    assert row["id"] == outbox_id
    assert row["sent_at"] == NOW.replace(tzinfo=None)
    assert row["body_text"] == "" and row["body_html"] == ""  # the one-time link is gone
    assert row["dead"] == 0 and row["last_error"] is None

    assert [e["event"] for e in logs] == ["mail.sent"]
    assert logs[0]["outbox_id"] == outbox_id
    assert token not in repr(logs) and address not in repr(logs)


async def test_mail_commits_or_rolls_back_with_the_callers_transaction(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    db, settings = outbox_db
    mail = templates.password_changed_notice(to="ann@example.org", first_name="Ann")

    def change_then_fail(cursor: Any) -> None:
        enqueue(cursor, mail, now=NOW)
        raise RuntimeError("the account change failed after queuing its email")

    with pytest.raises(RuntimeError):
        await db.transaction(change_then_fail)
    assert rows(settings) == []

    handler = RecordingHandler()
    with smtp_server(handler) as relay:
        assert await OutboxWorker(db, plain_sender(relay.port), FixedClock(NOW)).run_once() == 0
    assert handler.received == []


async def test_refused_recipient_is_marked_dead_and_not_retried(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    db, settings = outbox_db
    gone = "no-such-person@example.org"
    refused = await queue(db, templates.new_message_notice(to=gone, first_name="Ann"))
    fine = await queue(db, templates.new_message_notice(to="bob@example.org", first_name="Bob"))
    handler = RecordingHandler(refuse={gone})
    clock = FixedClock(NOW)
    with smtp_server(handler) as relay, structlog.testing.capture_logs() as logs:
        worker = OutboxWorker(db, plain_sender(relay.port), clock)
        assert await worker.run_once() == 1  # the refusal does not hold up the next mail
        for days in (1, 30, 365):
            clock.set(NOW + timedelta(days=days))
            assert await worker.run_once() == 0

    assert [r.rcpt_tos for r in handler.received] == [["bob@example.org"]]
    by_id = {row["id"]: row for row in rows(settings)}
    assert by_id[refused]["dead"] == 1
    assert by_id[refused]["attempts"] == 1
    assert by_id[refused]["sent_at"] is None
    assert by_id[refused]["last_error"] == "recipient_refused:550"
    assert by_id[fine]["sent_at"] is not None
    undeliverable = [e for e in logs if e["event"] == "mail.undeliverable"]
    assert undeliverable == [
        {
            "event": "mail.undeliverable",
            "log_level": "error",
            "outbox_id": refused,
            "attempts": 1,
            "error": "recipient_refused:550",
        }
    ]
    assert gone not in repr(logs)


async def test_a_mail_with_a_line_break_in_the_address_is_dead_not_injected(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    db, settings = outbox_db
    evil = "ann@example.org\r\nBcc: everyone@example.org"
    await queue(db, templates.password_changed_notice(to=evil, first_name="Ann"))
    handler = RecordingHandler()
    with smtp_server(handler) as relay:
        assert await OutboxWorker(db, plain_sender(relay.port), FixedClock(NOW)).run_once() == 0
    assert handler.received == []
    [row] = rows(settings)
    assert row["dead"] == 1 and row["last_error"] == "bad_address"
