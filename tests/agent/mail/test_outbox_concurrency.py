"""Workers running side by side (several agents, or overlapping runs) never send a mail twice."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pymysql
import pytest

from agent.clock import FixedClock
from agent.db.pool import Database, DatabaseSettings
from agent.mail.emails import Mail, MailTemplates
from agent.mail.outbox import OutboxWorker, SMTPSender, enqueue
from tests.support.database import MariaDB, fresh_database
from tests.support.smtp import RecordingHandler, smtp_server

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PORTAL = "https://example-clinic.portal.example.com"
MAILS = 60
templates = MailTemplates(
    practice_name="Example Family Clinic", practice_phone="+1 555 0100", portal_url=PORTAL
)


@pytest.fixture
async def settings(mariadb: MariaDB) -> AsyncIterator[DatabaseSettings]:
    with fresh_database(mariadb) as settings:
        yield settings


class SlowSender:
    """A real SMTP sender that also yields a little, so the workers' sends interleave."""

    def __init__(self, inner: SMTPSender) -> None:
        self.inner = inner

    async def send(self, mail: Mail) -> None:
        await asyncio.sleep(0.005)
        await self.inner.send(mail)


async def test_concurrent_workers_never_send_one_row_twice(settings: DatabaseSettings) -> None:
    tokens = [secrets.token_urlsafe(16) for _ in range(MAILS)]
    loader = Database(settings)
    try:
        for i, token in enumerate(tokens):
            mail = templates.invite(to=f"p{i}@example.org", first_name="Ann", token=token)
            await loader.transaction(lambda cursor, m=mail: enqueue(cursor, m, now=NOW))
    finally:
        await loader.close()

    handler = RecordingHandler()
    databases = [Database(settings) for _ in range(3)]  # one pool each, as separate agents
    try:
        with smtp_server(handler) as relay:
            workers = [
                OutboxWorker(
                    db,
                    SlowSender(
                        SMTPSender(
                            host="127.0.0.1",
                            port=relay.port,
                            starttls=False,
                            username=None,
                            password=None,
                            from_address="portal@example-clinic.com",
                            timeout=5,
                        )
                    ),
                    FixedClock(NOW),
                    batch=7,
                )
                for db in databases
                for _ in range(2)  # and two workers on each pool
            ]
            total = 0
            rounds = 0
            while True:
                rounds += 1
                sent = await asyncio.gather(*(w.run_once() for w in workers))
                total += sum(sent)
                if sum(sent) == 0:
                    break
                # Every worker got its own share each round: they really ran side by side.
                assert rounds > 1 or all(s > 0 for s in sent)
    finally:
        for db in databases:
            await db.close()

    assert total == MAILS
    seen = Counter()
    for received in handler.received:
        text = received.part("text/plain")
        seen.update(t for t in tokens if f"token={t}" in text)
    assert len(handler.received) == MAILS
    assert seen == Counter({t: 1 for t in tokens})


async def test_rows_another_worker_is_claiming_are_skipped_not_waited_for(
    settings: DatabaseSettings,
) -> None:
    db = Database(settings)
    handler = RecordingHandler()
    try:
        for i in range(6):
            mail = templates.new_message_notice(to=f"p{i}@example.org", first_name="Ann")
            await db.transaction(lambda cursor, m=mail: enqueue(cursor, m, now=NOW))
        # Another worker, mid-claim, holds the first three rows locked.
        other = pymysql.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            database=settings.name,
            autocommit=False,
        )
        with other, smtp_server(handler) as relay:
            with other.cursor() as cursor:
                # As a worker's claim does (the pool uses READ COMMITTED: no gap locks).
                cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cursor.execute("SELECT id FROM portal_outbox WHERE id <= 3 FOR UPDATE")
            worker = OutboxWorker(
                db,
                SMTPSender(
                    host="127.0.0.1",
                    port=relay.port,
                    starttls=False,
                    username=None,
                    password=None,
                    from_address="portal@example-clinic.com",
                    timeout=5,
                ),
                FixedClock(NOW),
            )
            # Without SKIP LOCKED this would sit out the lock wait timeout (50 s by default).
            assert await asyncio.wait_for(worker.run_once(), timeout=10) == 3
            assert sorted(r.rcpt_tos[0] for r in handler.received) == [
                "p3@example.org",
                "p4@example.org",
                "p5@example.org",
            ]
            other.rollback()
            assert await worker.run_once() == 3
    finally:
        await db.close()
    assert len(handler.received) == 6
