"""Cancel and reschedule: the cutoff, the switch, late-cancel recording, the patient cap.

Every test runs on both practice systems (`small_practice`: portico and openemr)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import RemoteError
from tests.support.practice import NOW, RunningPractice, SmallPractice, running_practice

WEDNESDAY_10AM = "2026-11-25T15:00:00Z"  # 10:00 New York, 51 h after NOW


def _provider(practice: RunningPractice, name: str | None) -> int | None:
    """ "adams", "baker" or None (no preference) as the practice's provider id."""
    ids = practice.ids
    return {"adams": ids.DR_ADAMS, "baker": ids.DR_BAKER, None: None}[name]


async def _book(
    practice: RunningPractice,
    start: str = WEDNESDAY_10AM,
    patient: int = 1,
    provider: str | None = "adams",
) -> Any:
    """A follow-up for the practice's patient number `patient`."""
    return await practice.call(
        "booking.book",
        patient=practice.ids.patient(patient),
        appointment_type_id=practice.ids.FOLLOW_UP,
        provider_id=_provider(practice, provider),
        start=start,
    )


async def _code(coro: Any) -> str:
    with pytest.raises(RemoteError) as caught:
        await coro
    return caught.value.code


async def test_cancel_before_cutoff(small_practice: SmallPractice, link_keys: Path) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        booked = await _book(practice)
        assert booked["can_change"] is True
        cancelled = await practice.call("booking.cancel", appointment_id=booked["id"])
        assert cancelled["status"] == "cancelled"
        assert cancelled["late_cancel"] is False
        # The slot is free again for someone else.
        assert (await _book(practice, patient=2))["status"] == "booked"


async def test_cancel_and_reschedule_refused_after_cutoff(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        booked = await _book(practice)
        practice.set_clock(NOW + timedelta(hours=28))  # 23 h before the appointment
        listing = await practice.call("appointments.list")
        assert listing["upcoming"][0]["can_change"] is False
        assert (
            await _code(practice.call("booking.cancel", appointment_id=booked["id"]))
            == "cancel_window_closed"
        )
        assert (
            await _code(
                practice.call(
                    "booking.reschedule",
                    appointment_id=booked["id"],
                    provider_id=practice.ids.DR_ADAMS,
                    start="2026-11-27T15:00:00Z",
                )
            )
            == "cancel_window_closed"
        )
        assert practice.appointments("status") == [{"status": "booked"}]


async def test_cancel_and_reschedule_refused_when_disabled(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(
        small_practice, link_keys, allow_cancel_reschedule=False
    ) as practice:
        booked = await _book(practice)
        assert booked["can_change"] is False
        assert (
            await _code(practice.call("booking.cancel", appointment_id=booked["id"]))
            == "booking_disabled"
        )
        assert (
            await _code(
                practice.call(
                    "booking.reschedule",
                    appointment_id=booked["id"],
                    provider_id=practice.ids.DR_ADAMS,
                    start="2026-11-27T15:00:00Z",
                )
            )
            == "booking_disabled"
        )


async def test_late_cancel_inside_fee_window_is_recorded(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(
        small_practice, link_keys, cancel_cutoff_hours=12, late_cancel_fee_hours=48
    ) as practice:
        booked = await _book(practice)
        practice.set_clock(NOW + timedelta(hours=10))  # 41 h before: allowed, but late
        cancelled = await practice.call("booking.cancel", appointment_id=booked["id"])
        assert cancelled["late_cancel"] is True
        assert practice.appointments("late_cancel") == [{"late_cancel": 1}]


async def test_reschedule_moves_the_appointment(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        booked = await _book(practice)
        # Fifteen minutes later with the same provider overlaps the old slot: allowed,
        # because the old one is released in the same transaction.
        moved = await practice.call(
            "booking.reschedule",
            appointment_id=booked["id"],
            provider_id=practice.ids.DR_ADAMS,
            start="2026-11-25T15:15:00Z",
        )
        assert moved["replaced_appointment_id"] == booked["id"]
        assert moved["appointment"]["start"] == "2026-11-25T15:15:00Z"
        assert practice.appointments("id", "status") == [
            {"id": booked["id"], "status": "cancelled"},
            {"id": moved["appointment"]["id"], "status": "booked"},
        ]


async def test_reschedule_to_a_taken_slot_changes_nothing(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        mine = await _book(practice)
        await _book(practice, start="2026-11-26T15:00:00Z", patient=2)
        assert (
            await _code(
                practice.call(
                    "booking.reschedule",
                    appointment_id=mine["id"],
                    provider_id=practice.ids.DR_ADAMS,
                    start="2026-11-26T15:00:00Z",
                )
            )
            == "slot_unavailable"
        )
        assert practice.appointments("patient_id", "status") == [
            {"patient_id": practice.ids.patient(1), "status": "booked"},
            {"patient_id": practice.ids.patient(2), "status": "booked"},
        ]


async def test_outside_the_booking_window(small_practice: SmallPractice, link_keys: Path) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        # Tuesday 10:00 is 27 h away (24 h notice is fine) but Monday 14:00 is 7 h away.
        assert await _code(_book(practice, start="2026-11-23T19:00:00Z")) == (
            "outside_booking_window"
        )
        assert await _code(_book(practice, start="2027-01-06T15:00:00Z")) == (
            "outside_booking_window"
        )
        assert await _code(_book(practice, start="2026-11-25T15:05:00Z")) == "slot_unavailable"
        assert await _code(_book(practice, start="2026-11-25T03:00:00Z")) == "slot_unavailable"


async def test_max_upcoming_per_patient(small_practice: SmallPractice, link_keys: Path) -> None:
    async with running_practice(small_practice, link_keys, max_upcoming_per_patient=2) as practice:
        await _book(practice, start="2026-11-25T15:00:00Z")
        await _book(practice, start="2026-11-26T15:00:00Z")
        assert await _code(_book(practice, start="2026-11-27T15:00:00Z")) == "limit_reached"
        # Another patient is not affected.
        await _book(practice, start="2026-11-27T15:00:00Z", patient=2)


async def test_booking_disabled(small_practice: SmallPractice, link_keys: Path) -> None:
    async with running_practice(small_practice, link_keys, enabled=False) as practice:
        assert await _code(_book(practice)) == "booking_disabled"
        assert (
            await _code(
                practice.call("booking.availability", appointment_type_id=practice.ids.FOLLOW_UP)
            )
            == "booking_disabled"
        )


async def test_someone_elses_appointment_looks_nonexistent(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        theirs = await _book(practice, patient=2)
        with pytest.raises(RemoteError) as other:
            await practice.call("booking.cancel", appointment_id=theirs["id"])
        with pytest.raises(RemoteError) as missing:
            await practice.call("booking.cancel", appointment_id=theirs["id"] + 1000)
        assert (other.value.code, other.value.message) == (
            missing.value.code,
            missing.value.message,
        )
        assert practice.appointments("status") == [{"status": "booked"}]
        mine = await practice.call("appointments.list")
        assert mine == {"upcoming": [], "past": []}
