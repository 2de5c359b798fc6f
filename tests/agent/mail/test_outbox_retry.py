"""The relay or the database goes away: mail waits with growing, capped backoff and is
delivered exactly once when things come back; nothing is lost."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from agent.clock import FixedClock
from agent.db.pool import Database, DatabaseSettings, DatabaseUnavailable
from agent.mail.emails import Mail, MailTemplates
from agent.mail.outbox import OutboxWorker, SMTPSender, enqueue, retry_delay
from tests.support.database import MariaDB, fresh_database, query
from tests.support.ports import free_port
from tests.support.smtp import RecordingHandler, smtp_server
from tests.support.tcp_relay import TcpRelay

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PORTAL = "https://example-clinic.portal.example.com"
templates = MailTemplates(
    practice_name="Example Family Clinic", practice_phone="+1 555 0100", portal_url=PORTAL
)


class CeilingRandom(random.Random):
    """Jitter that always picks the top of its range, so the backoff's ceiling is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
async def outbox_db(mariadb: MariaDB) -> AsyncIterator[tuple[Database, DatabaseSettings]]:
    with fresh_database(mariadb) as settings:
        db = Database(settings)
        try:
            yield db, settings
        finally:
            await db.close()


def rows(settings: DatabaseSettings) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in query(settings, "SELECT * FROM portal_outbox ORDER BY id")}


async def queue(db: Database, mail: Mail, now: datetime = NOW) -> int:
    return await db.transaction(lambda cursor: enqueue(cursor, mail, now=now))


def sender(port: int, timeout: float = 5) -> SMTPSender:
    return SMTPSender(
        host="127.0.0.1",
        port=port,
        starttls=False,
        username=None,
        password=None,
        from_address="portal@example-clinic.com",
        timeout=timeout,
    )


def naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


async def eventually(
    condition: Callable[[], bool], step: Callable[[], None] = lambda: None
) -> None:
    async with asyncio.timeout(10):
        while not condition():
            step()
            await asyncio.sleep(0.02)


async def test_relay_down_then_back_every_mail_delivered_exactly_once(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    db, settings = outbox_db
    tokens = [secrets.token_urlsafe(32) for _ in range(3)]
    ids = [
        await queue(db, templates.reset_password(to=f"p{i}@example.org", first_name="Ann", token=t))
        for i, t in enumerate(tokens)
    ]
    port = free_port()  # nothing listens here yet: the relay is down
    clock = FixedClock(NOW)
    worker = OutboxWorker(
        db, sender(port), clock, base_delay=30, max_delay=100, rng=CeilingRandom()
    )

    with structlog.testing.capture_logs() as logs:
        for attempt, backoff in enumerate([30, 60, 100, 100, 100], start=1):
            assert await worker.run_once() == 0
            state = rows(settings)
            first = state[ids[0]]
            assert first["attempts"] == attempt
            assert first["last_error"] == "connect"
            retry_at = naive(clock.now()) + timedelta(seconds=backoff)
            assert first["next_attempt_at"] == retry_at  # grows, then stays at the cap
            for other in ids[1:]:  # not tried (the relay is down) but waiting, not lost
                assert state[other]["sent_at"] is None and state[other]["dead"] == 0
                assert state[other]["next_attempt_at"] == retry_at
            # Not due yet: nothing is attempted before the backoff has passed.
            clock.set(clock.now() + timedelta(seconds=backoff - 1))
            assert await worker.run_once() == 0
            assert rows(settings)[ids[0]]["attempts"] == attempt
            clock.set(clock.now() + timedelta(seconds=1))

    assert {e["event"] for e in logs} == {"mail.retry_later"}
    assert all(e["error"] == "connect" and e["outbox_id"] == ids[0] for e in logs)
    assert not any(t in repr(logs) for t in tokens) and "@example.org" not in repr(logs)

    handler = RecordingHandler()
    with smtp_server(handler, port=port):
        assert await worker.run_once() == 3
        clock.set(clock.now() + timedelta(days=1))
        assert await worker.run_once() == 0
    delivered = sorted(r.rcpt_tos[0] for r in handler.received)
    assert delivered == ["p0@example.org", "p1@example.org", "p2@example.org"]
    in_order = sorted(handler.received, key=lambda r: r.rcpt_tos[0])
    for token, received in zip(tokens, in_order, strict=True):
        assert f"{PORTAL}/reset?token={token}" in received.part("text/plain")
    assert all(row["sent_at"] is not None for row in rows(settings).values())


async def test_a_silent_relay_costs_one_timeout_per_round_not_one_per_mail(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    """A relay that accepts but never answers: the first mail times out and the others wait
    with it, instead of the worker sitting through a timeout for every queued mail, batch
    after batch."""
    db, settings = outbox_db
    for i in range(4):
        await queue(db, templates.new_message_notice(to=f"p{i}@example.org", first_name="Ann"))
    connections = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read()  # say nothing until the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        clock = FixedClock(NOW)
        worker = OutboxWorker(db, sender(port, timeout=0.3), clock, batch=2, rng=CeilingRandom())
        assert await worker.run_once() == 0
        # Mail beyond that batch is still due, but the relay is known to be down: no new try
        # until the backoff has passed.
        for seconds in (0, 10, 29):
            clock.set(NOW + timedelta(seconds=seconds))
            assert await worker.run_once() == 0
    finally:
        server.close()
        await server.wait_closed()
    assert connections == 1
    state = sorted(rows(settings).values(), key=lambda row: row["id"])
    assert [row["attempts"] for row in state] == [1, 0, 0, 0]
    assert state[0]["last_error"] == "timeout"
    assert all(row["sent_at"] is None and row["dead"] == 0 for row in state)


async def test_outcome_is_kept_when_the_database_drops_during_a_send(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    """Sent, then the database goes away before that is written: the worker remembers it and
    writes it first when the database is back, rather than sending the mail a second time."""
    _, settings = outbox_db
    cable = TcpRelay(settings.host, settings.port)
    await cable.start()
    db = Database(dataclasses.replace(settings, host="127.0.0.1", port=cable.port))
    outbox_id = await queue(db, templates.new_message_notice(to="ann@example.org", first_name="A"))
    cut_next = True

    class CutAfterFirstSend:
        def __init__(self, inner: SMTPSender) -> None:
            self.inner = inner

        async def send(self, mail: Mail) -> None:
            nonlocal cut_next
            await self.inner.send(mail)
            if cut_next:
                cut_next = False
                await cable.cut()

    handler = RecordingHandler()
    clock = FixedClock(NOW)
    try:
        with smtp_server(handler) as relay:
            worker = OutboxWorker(db, CutAfterFirstSend(sender(relay.port)), clock)
            assert await worker.run_once() == 1
            assert rows(settings)[outbox_id]["sent_at"] is None
            # Still down: the worker says so and sends nothing.
            clock.set(NOW + timedelta(hours=2))  # past the claim: the row is due again
            with pytest.raises(DatabaseUnavailable):
                await worker.run_once()
            await cable.restore()
            assert await worker.run_once() == 0
    finally:
        await cable.cut()
        await db.close()
    assert len(handler.received) == 1
    assert rows(settings)[outbox_id]["sent_at"] == naive(NOW)


async def test_run_forever_waits_out_a_database_outage_then_delivers(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    _, settings = outbox_db
    cable = TcpRelay(settings.host, settings.port)
    await cable.start()
    db = Database(dataclasses.replace(settings, host="127.0.0.1", port=cable.port))
    await queue(db, templates.new_message_notice(to="ann@example.org", first_name="Ann"))
    await cable.cut()
    handler = RecordingHandler()
    stop = asyncio.Event()
    try:
        with smtp_server(handler) as relay, structlog.testing.capture_logs() as logs:
            worker = OutboxWorker(db, sender(relay.port), FixedClock(NOW))
            task = asyncio.create_task(worker.run_forever(stop, poll_interval=0.05))
            await eventually(
                lambda: sum(e["event"] == "mail.database_unavailable" for e in logs) > 2
            )
            assert not task.done()
            await cable.restore()
            await eventually(lambda: bool(handler.received))
            stop.set()
            await asyncio.wait_for(task, timeout=5)
    finally:
        await cable.cut()
        await db.close()
    assert len(handler.received) == 1


async def test_run_forever_survives_a_broken_sender(
    outbox_db: tuple[Database, DatabaseSettings],
) -> None:
    db, settings = outbox_db
    outbox_id = await queue(db, templates.new_message_notice(to="ann@example.org", first_name="A"))

    class Broken:
        calls = 0

        async def send(self, mail: Mail) -> None:
            Broken.calls += 1
            raise KeyError(mail.to)  # a bug; its text holds the address

    stop = asyncio.Event()
    clock = FixedClock(NOW)
    with structlog.testing.capture_logs() as logs:
        worker = OutboxWorker(db, Broken(), clock, base_delay=1, max_delay=1)
        task = asyncio.create_task(worker.run_forever(stop, poll_interval=0.02))
        await eventually(
            lambda: Broken.calls >= 3, lambda: clock.set(clock.now() + timedelta(seconds=5))
        )
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    row = rows(settings)[outbox_id]
    assert row["attempts"] >= 3 and row["dead"] == 0 and row["last_error"] == "internal"
    assert "ann@example.org" not in repr(logs)
    assert {"event": "mail.send_failed", "log_level": "error", "outbox_id": outbox_id} | {
        "error": "KeyError"
    } in logs


def test_retry_delay_is_full_jitter_under_a_doubling_capped_ceiling() -> None:
    rng = random.Random(4)
    for attempts, ceiling in [(0, 30), (1, 60), (2, 120), (6, 1920), (7, 3600), (50, 3600)]:
        draws = [retry_delay(attempts, base_delay=30, max_delay=3600, rng=rng) for _ in range(2000)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.95 and min(draws) < ceiling * 0.05  # spread, not fixed
    # Years of hourly retries: still the cap, no float overflow.
    assert retry_delay(100_000, base_delay=30, max_delay=3600, rng=CeilingRandom()) == 3600
