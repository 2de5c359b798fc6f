"""The database goes away while the agent runs: `unavailable`, then recovery by itself."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pymysql
import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.support.practice import DR_ADAMS, DR_BAKER, FOLLOW_UP, running_practice
from tests.support.tcp_relay import TcpRelay


async def test_outage_gives_unavailable_and_recovers(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    relay = TcpRelay(practice_db.host, practice_db.port)
    await relay.start()
    via_relay = dataclasses.replace(practice_db, host="127.0.0.1", port=relay.port)
    async with running_practice(via_relay, link_keys, direct=practice_db) as practice:
        params = {"appointment_type_id": FOLLOW_UP}
        assert (await practice.call("booking.providers", **params))["providers"]

        await relay.cut()
        for _ in range(3):  # pooled connections are dead, and new ones are refused
            with pytest.raises(RemoteError) as down:
                await practice.client.request(
                    "booking.providers", params, session=practice.session_for(1), deadline=10
                )
            assert down.value.code == "unavailable"
            assert down.value.retryable is True
            assert "+1 555 0100" in down.value.message  # the patient can call instead
        assert practice.client.is_usable  # the link itself is fine

        await relay.restore()
        assert (await practice.call("booking.providers", **params))["providers"]
        booked = await practice.call(
            "booking.book",
            appointment_type_id=FOLLOW_UP,
            provider_id=DR_ADAMS,
            start="2026-11-25T15:00:00Z",
        )
        assert booked["status"] == "booked"
    await relay.cut()


async def test_reschedule_is_all_or_nothing_when_the_connection_dies(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        booked = await practice.call(
            "booking.book",
            appointment_type_id=FOLLOW_UP,
            provider_id=DR_ADAMS,
            start="2026-11-25T15:00:00Z",
        )
        # Hold Dr. Baker's row lock, so the reschedule stops right after releasing the old
        # slot (inside its transaction) and waits for the new provider's lock.
        holder = pymysql.connect(
            host=practice_db.host,
            port=practice_db.port,
            user=practice_db.user,
            password=practice_db.password,
            database=practice_db.name,
        )
        admin = pymysql.connect(
            host=practice_db.host,
            port=practice_db.port,
            user=practice_db.user,
            password=practice_db.password,
            database=practice_db.name,
            autocommit=True,
        )
        try:
            with holder.cursor() as cursor:
                cursor.execute("SELECT id FROM providers WHERE id = %s FOR UPDATE", (DR_BAKER,))
            reschedule = asyncio.create_task(
                practice.call(
                    "booking.reschedule",
                    appointment_id=booked["id"],
                    provider_id=DR_BAKER,
                    start="2026-11-26T15:00:00Z",
                )
            )
            waiting = None
            for _ in range(200):
                # innodb_trx is a cached view; the process list shows the wait at once.
                with admin.cursor() as cursor:
                    cursor.execute(
                        "SELECT id FROM information_schema.processlist"
                        " WHERE db = %s AND id <> %s AND info LIKE %s",
                        (practice_db.name, holder.thread_id(), "SELECT p.id%FOR UPDATE"),
                    )
                    row = cursor.fetchone()
                if row:
                    waiting = row[0]
                    break
                await asyncio.sleep(0.05)
            assert waiting is not None, "the reschedule never reached the provider lock"
            with admin.cursor() as cursor:
                cursor.execute(f"KILL {int(waiting)}")
            with pytest.raises(RemoteError) as killed:
                await reschedule
            assert killed.value.code == "unavailable"
        finally:
            # Release the lock whatever happened, or dropping the database would wait forever.
            holder.rollback()
            holder.close()
            admin.close()
        rows = practice.query("SELECT id, status, provider_id FROM appointments ORDER BY id")
        assert rows == [{"id": booked["id"], "status": "booked", "provider_id": DR_ADAMS}]
        # And the agent carries on with a fresh connection.
        moved = await practice.call(
            "booking.reschedule",
            appointment_id=booked["id"],
            provider_id=DR_BAKER,
            start="2026-11-26T15:00:00Z",
        )
        assert moved["appointment"]["provider"]["id"] == DR_BAKER
