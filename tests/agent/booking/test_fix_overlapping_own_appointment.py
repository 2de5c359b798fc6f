"""Issue 11 — "A patient can book a second appointment overlapping her own (another provider,
same time)."

"Don't offer or accept it: availability must not offer slots overlapping the patient's own
upcoming appointments (availability is per patient session when a session is present), and
book/reschedule must refuse it inside the booking transaction with a clear error code/message
(reschedule: the appointment being moved does not count against itself). [...] two concurrent
bookings by the same patient with different providers must not both succeed."

Every test runs on both practice systems (`small_practice`: portico and openemr).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import RemoteError
from tests.agent.booking.test_booking_changes import _book, _code, _provider
from tests.support.practice import RunningPractice, SmallPractice, running_practice

WEDNESDAY = "2026-11-25"
AT_10 = "2026-11-25T15:00:00Z"  # 10:00 New York
AT_1015 = "2026-11-25T15:15:00Z"
AT_1030 = "2026-11-25T15:30:00Z"
AT_0930 = "2026-11-25T14:30:00Z"
OVERLAPS = "overlaps_own_appointment"


async def _starts(
    practice: RunningPractice, patient: int, provider: str | None, **extra: Any
) -> set[str]:
    """Follow-up starts on Wednesday offered to patient number `patient`."""
    answer = await practice.call(
        "booking.availability",
        patient=practice.ids.patient(patient),
        appointment_type_id=practice.ids.FOLLOW_UP,
        provider_id=_provider(practice, provider),
        from_date=WEDNESDAY,
        days=1,
        **extra,
    )
    return {s["start"] for d in answer["days"] for s in d["slots"]}


async def test_availability_hides_times_overlapping_the_patients_own(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        await _book(practice, AT_10, provider="adams")  # 10:00-10:30 with Dr. Adams
        for provider in ("baker", None):
            mine = await _starts(practice, 1, provider)
            # A 30-minute visit starting 9:45, 10:00 or 10:15 would overlap 10:00-10:30.
            assert {"2026-11-25T14:45:00Z", AT_10, AT_1015} & mine == set()
            assert {AT_0930, AT_1030} <= mine
            # Someone else still sees Dr. Baker's 10:00.
            assert AT_10 in await _starts(practice, 2, provider)


async def test_booking_an_overlapping_time_is_refused(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        await _book(practice, AT_10, provider="adams")
        assert await _code(_book(practice, AT_1015, provider="baker")) == OVERLAPS
        assert await _code(_book(practice, AT_10, provider=None)) == OVERLAPS
        with pytest.raises(RemoteError) as caught:
            await _book(practice, AT_10, provider="baker")
        assert "already have an appointment" in caught.value.message
        rows = practice.appointments("provider_id", status="booked")
        assert rows == [{"provider_id": small_practice.DR_ADAMS}]
        # Back to back is not an overlap.
        assert (await _book(practice, AT_1030, provider="baker"))["status"] == "booked"


async def test_reschedule_does_not_count_the_moved_appointment(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        ids = small_practice
        first = await _book(practice, AT_10, provider="adams")
        second = await _book(practice, "2026-11-25T17:00:00Z", provider="adams")  # 12:00
        # Moving the 10:00 by 15 minutes to Dr. Baker overlaps only itself: allowed, and
        # offered when the availability names the appointment being moved.
        offered = await _starts(practice, 1, "baker", rescheduling_appointment_id=first["id"])
        assert AT_1015 in offered
        moved = await practice.call(
            "booking.reschedule",
            appointment_id=first["id"],
            provider_id=ids.DR_BAKER,
            start=AT_1015,
        )
        assert moved["appointment"]["provider"]["id"] == ids.DR_BAKER
        # Moving the 12:00 onto 10:15-10:45 overlaps the other one: refused, nothing changes.
        code = await _code(
            practice.call(
                "booking.reschedule",
                appointment_id=second["id"],
                provider_id=ids.DR_ADAMS,
                start=AT_1030,
            )
        )
        assert code == OVERLAPS
        rows = practice.appointments("id", status="booked", patient_id=ids.patient(1))
        assert [r["id"] for r in rows] == [second["id"], moved["appointment"]["id"]]


async def test_concurrent_bookings_by_one_patient_with_different_providers(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        ids = small_practice
        practice.session_for(ids.patient(1))  # one session, made before the race

        async def one(provider: int, type_id: int, start: str) -> str:
            try:
                await practice.call(
                    "booking.book",
                    patient=ids.patient(1),
                    appointment_type_id=type_id,
                    provider_id=provider,
                    start=start,
                )
            except RemoteError as exc:
                return exc.code
            return "booked"

        # 30 or 60 minutes from 10:00 or 10:15, either provider: every two of them overlap.
        requests = [
            (
                ids.DR_ADAMS if i % 2 else ids.DR_BAKER,
                ids.NEW_PATIENT if i % 3 else ids.FOLLOW_UP,
                start,
            )
            for i, start in enumerate([AT_10, AT_1015] * 10)
        ]
        results = await asyncio.gather(*(one(*r) for r in requests))
        assert Counter(results)["booked"] == 1, results
        assert set(results) <= {"booked", OVERLAPS, "slot_unavailable"}, results
        assert len(practice.appointments("id", status="booked")) == 1
