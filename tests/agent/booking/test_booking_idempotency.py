"""One idempotency key sent 20 times, some at once: one appointment, identical replies; on both
practice systems (`small_practice`: portico and openemr)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import RemoteError
from tests.support.practice import SmallPractice, running_practice


def _params(ids: SmallPractice, start: str = "2026-11-25T15:00:00Z") -> dict[str, Any]:
    return {"appointment_type_id": ids.FOLLOW_UP, "provider_id": ids.DR_ADAMS, "start": start}


async def test_one_key_twenty_times(small_practice: SmallPractice, link_keys: Path) -> None:
    seven = small_practice.patient(7)
    async with running_practice(small_practice, link_keys) as practice:

        async def book() -> object:
            return await practice.client.request(
                "booking.book",
                _params(small_practice),
                session=practice.session_for(seven),
                idempotency_key="k-123",
                deadline=20,
            )

        concurrent = await asyncio.gather(*(book() for _ in range(12)))
        sequential = [await book() for _ in range(8)]
        replies = concurrent + sequential
        assert all(reply == replies[0] for reply in replies)
        rows = practice.appointments("id", patient_id=seven)
        assert [row["id"] for row in rows] == [replies[0]["id"]]  # type: ignore[index]


async def test_key_reused_for_another_request_is_refused(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    seven = small_practice.patient(7)
    async with running_practice(small_practice, link_keys) as practice:
        await practice.client.request(
            "booking.book",
            _params(small_practice),
            session=practice.session_for(seven),
            idempotency_key="k-1",
        )
        other = _params(small_practice, "2026-11-25T16:00:00Z")
        with pytest.raises(RemoteError) as refused:
            await practice.client.request(
                "booking.book", other, session=practice.session_for(seven), idempotency_key="k-1"
            )
        assert refused.value.code == "invalid_params"
        assert len(practice.appointments("id")) == 1


async def test_keys_are_per_patient(small_practice: SmallPractice, link_keys: Path) -> None:
    """Another patient's key never replays someone else's appointment."""
    params = _params(small_practice)
    async with running_practice(small_practice, link_keys) as practice:
        mine = await practice.client.request(
            "booking.book",
            params,
            session=practice.session_for(small_practice.patient(7)),
            idempotency_key="same",
        )
        with pytest.raises(RemoteError) as theirs:
            await practice.client.request(
                "booking.book",
                params,
                session=practice.session_for(small_practice.patient(8)),
                idempotency_key="same",
            )
        assert theirs.value.code == "slot_unavailable"
        assert str(mine["id"]) not in theirs.value.message
