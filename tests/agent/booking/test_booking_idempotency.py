"""One idempotency key sent 20 times, some at once: one appointment, identical replies."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.support.practice import DR_ADAMS, FOLLOW_UP, running_practice

PARAMS = {
    "appointment_type_id": FOLLOW_UP,
    "provider_id": DR_ADAMS,
    "start": "2026-11-25T15:00:00Z",
}


async def test_one_key_twenty_times(practice_db: DatabaseSettings, link_keys: Path) -> None:
    async with running_practice(practice_db, link_keys) as practice:

        async def book() -> object:
            return await practice.client.request(
                "booking.book",
                PARAMS,
                session=practice.session_for(7),
                idempotency_key="k-123",
                deadline=20,
            )

        concurrent = await asyncio.gather(*(book() for _ in range(12)))
        sequential = [await book() for _ in range(8)]
        replies = concurrent + sequential
        assert all(reply == replies[0] for reply in replies)
        rows = practice.query("SELECT id FROM appointments WHERE patient_id = 7")
        assert [row["id"] for row in rows] == [replies[0]["id"]]  # type: ignore[index]


async def test_key_reused_for_another_request_is_refused(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        await practice.client.request(
            "booking.book", PARAMS, session=practice.session_for(7), idempotency_key="k-1"
        )
        other = {**PARAMS, "start": "2026-11-25T16:00:00Z"}
        with pytest.raises(RemoteError) as refused:
            await practice.client.request(
                "booking.book", other, session=practice.session_for(7), idempotency_key="k-1"
            )
        assert refused.value.code == "invalid_params"
        assert len(practice.query("SELECT id FROM appointments")) == 1


async def test_keys_are_per_patient(practice_db: DatabaseSettings, link_keys: Path) -> None:
    """Another patient's key never replays someone else's appointment."""
    async with running_practice(practice_db, link_keys) as practice:
        mine = await practice.client.request(
            "booking.book", PARAMS, session=practice.session_for(7), idempotency_key="same"
        )
        with pytest.raises(RemoteError) as theirs:
            await practice.client.request(
                "booking.book", PARAMS, session=practice.session_for(8), idempotency_key="same"
            )
        assert theirs.value.code == "slot_unavailable"
        assert str(mine["id"]) not in theirs.value.message
