"""50 patients racing for one slot over the real link: exactly one appointment, on both
practice systems (`small_practice`: portico and openemr)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from protocol.aio import RemoteError
from tests.support.practice import SmallPractice, running_practice

WEDNESDAY_10AM = "2026-11-25T15:00:00Z"  # 10:00 in New York
WEDNESDAY_1030 = "2026-11-25T15:30:00Z"


async def _race(practice, requests):  # type: ignore[no-untyped-def]
    async def one(patient, params):  # type: ignore[no-untyped-def]
        try:
            return await practice.call("booking.book", patient=patient, **params)
        except RemoteError as exc:
            return exc.code

    ids = practice.ids
    return await asyncio.gather(*(one(ids.patient(n), params) for n, params in requests))


def _codes(results) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter("booked" if isinstance(r, dict) else r for r in results)


async def test_fifty_concurrent_bookings_of_one_slot(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        params = {
            "appointment_type_id": small_practice.FOLLOW_UP,
            "provider_id": small_practice.DR_ADAMS,
            "start": WEDNESDAY_10AM,
        }
        results = await _race(practice, [(p, params) for p in range(1, 51)])
        assert _codes(results) == {"booked": 1, "slot_unavailable": 49}
        assert practice.appointments("provider_id", "starts_at", status="booked") == [
            {"provider_id": small_practice.DR_ADAMS, "starts_at": datetime(2026, 11, 25, 15, 0)}
        ]


async def test_overlapping_intervals_of_different_lengths(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """A 60-minute visit at 10:00 and 30-minute visits at 10:30 overlap: one wins."""
    async with running_practice(small_practice, link_keys) as practice:
        ids = small_practice
        long = {
            "appointment_type_id": ids.NEW_PATIENT,
            "provider_id": ids.DR_ADAMS,
            "start": WEDNESDAY_10AM,
        }
        short = {
            "appointment_type_id": ids.FOLLOW_UP,
            "provider_id": ids.DR_ADAMS,
            "start": WEDNESDAY_1030,
        }
        requests = [(p, long if p % 2 else short) for p in range(1, 51)]
        results = await _race(practice, requests)
        assert _codes(results) == {"booked": 1, "slot_unavailable": 49}
        rows = practice.appointments("starts_at", "ends_at", status="booked")
        assert rows in (
            [{"starts_at": datetime(2026, 11, 25, 15), "ends_at": datetime(2026, 11, 25, 16)}],
            [
                {
                    "starts_at": datetime(2026, 11, 25, 15, 30),
                    "ends_at": datetime(2026, 11, 25, 16),
                }
            ],
        )


async def test_no_preference_when_one_provider_is_free(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        ids = small_practice
        # Dr. Baker is already busy at 10:00 (booked by the office).
        ids.add_office_appointment(
            ids.patient(60), ids.DR_BAKER, ids.FOLLOW_UP, datetime(2026, 11, 25, 15, tzinfo=UTC)
        )
        params = {
            "appointment_type_id": ids.FOLLOW_UP,
            "provider_id": None,
            "start": WEDNESDAY_10AM,
        }
        results = await _race(practice, [(p, params) for p in range(1, 51)])
        assert _codes(results) == {"booked": 1, "slot_unavailable": 49}
        winner = next(r for r in results if isinstance(r, dict))
        assert winner["provider"]["id"] == ids.DR_ADAMS
        rows = practice.appointments("provider_id", status="booked", source="portal")
        assert rows == [{"provider_id": ids.DR_ADAMS}]


async def test_no_preference_spreads_by_fewest_appointments_that_day(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        ids = small_practice
        ids.add_office_appointment(
            ids.patient(60), ids.DR_ADAMS, ids.FOLLOW_UP, datetime(2026, 11, 25, 20, tzinfo=UTC)
        )
        booked = await practice.call(
            "booking.book",
            appointment_type_id=ids.FOLLOW_UP,
            provider_id=None,
            start=WEDNESDAY_10AM,
        )
        assert booked["provider"]["id"] == ids.DR_BAKER  # Dr. Adams already has one that day
