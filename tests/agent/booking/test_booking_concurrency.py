"""50 patients racing for one slot over the real link: exactly one appointment."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.support.practice import DR_ADAMS, DR_BAKER, FOLLOW_UP, NEW_PATIENT, running_practice

WEDNESDAY_10AM = "2026-11-25T15:00:00Z"  # 10:00 in New York
WEDNESDAY_1030 = "2026-11-25T15:30:00Z"


async def _race(practice, requests):  # type: ignore[no-untyped-def]
    async def one(patient, params):  # type: ignore[no-untyped-def]
        try:
            return await practice.call("booking.book", patient=patient, **params)
        except RemoteError as exc:
            return exc.code

    return await asyncio.gather(*(one(p, params) for p, params in requests))


def _codes(results) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter("booked" if isinstance(r, dict) else r for r in results)


async def test_fifty_concurrent_bookings_of_one_slot(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        params = {
            "appointment_type_id": FOLLOW_UP,
            "provider_id": DR_ADAMS,
            "start": WEDNESDAY_10AM,
        }
        results = await _race(practice, [(p, params) for p in range(1, 51)])
        assert _codes(results) == {"booked": 1, "slot_unavailable": 49}
        rows = practice.query(
            "SELECT provider_id, starts_at FROM appointments WHERE status = 'booked'"
        )
        assert len(rows) == 1


async def test_overlapping_intervals_of_different_lengths(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """A 60-minute visit at 10:00 and 30-minute visits at 10:30 overlap: one wins."""
    async with running_practice(practice_db, link_keys) as practice:
        long = {
            "appointment_type_id": NEW_PATIENT,
            "provider_id": DR_ADAMS,
            "start": WEDNESDAY_10AM,
        }
        short = {"appointment_type_id": FOLLOW_UP, "provider_id": DR_ADAMS, "start": WEDNESDAY_1030}
        requests = [(p, long if p % 2 else short) for p in range(1, 51)]
        results = await _race(practice, requests)
        assert _codes(results) == {"booked": 1, "slot_unavailable": 49}
        rows = practice.query("SELECT starts_at, ends_at FROM appointments WHERE status = 'booked'")
        assert len(rows) == 1


async def test_no_preference_when_one_provider_is_free(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        # Dr. Baker is already busy at 10:00 (booked by the office).
        practice.query(
            "INSERT INTO appointments (patient_id, provider_id, appointment_type_id,"
            " starts_at, ends_at) VALUES (60, %s, %s, '2026-11-25 15:00', '2026-11-25 15:30')",
            (DR_BAKER, FOLLOW_UP),
        )
        params = {"appointment_type_id": FOLLOW_UP, "provider_id": None, "start": WEDNESDAY_10AM}
        results = await _race(practice, [(p, params) for p in range(1, 51)])
        assert _codes(results) == {"booked": 1, "slot_unavailable": 49}
        winner = next(r for r in results if isinstance(r, dict))
        assert winner["provider"]["id"] == DR_ADAMS
        rows = practice.query(
            "SELECT provider_id FROM appointments WHERE status = 'booked' AND source = 'portal'"
        )
        assert rows == [{"provider_id": DR_ADAMS}]


async def test_no_preference_spreads_by_fewest_appointments_that_day(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        practice.query(
            "INSERT INTO appointments (patient_id, provider_id, appointment_type_id,"
            " starts_at, ends_at) VALUES (60, %s, %s, '2026-11-25 20:00', '2026-11-25 20:30')",
            (DR_ADAMS, FOLLOW_UP),
        )
        booked = await practice.call(
            "booking.book",
            appointment_type_id=FOLLOW_UP,
            provider_id=None,
            start=WEDNESDAY_10AM,
        )
        assert booked["provider"]["id"] == DR_BAKER  # Dr. Adams already has one that day
