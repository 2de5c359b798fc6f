"""Book and list over the real link, on both practice systems (portico and openemr)."""

from __future__ import annotations

from pathlib import Path

from tests.support.practice import SmallPractice, running_practice


async def test_book_and_list_over_the_link(small_practice: SmallPractice, link_keys: Path) -> None:
    FOLLOW_UP, DR_ADAMS = small_practice.FOLLOW_UP, small_practice.DR_ADAMS
    async with running_practice(small_practice, link_keys) as practice:
        info = await practice.call("practice.info", patient=None)
        assert info["name"] == "Example Family Clinic"
        slots = await practice.call(
            "booking.availability", appointment_type_id=FOLLOW_UP, provider_id=DR_ADAMS, days=3
        )
        first = slots["days"][0]["slots"][0]
        # Monday 07:00 plus 24 h of notice: Tuesday's 09:00 (EST, -5) is the first.
        assert first["start"] == "2026-11-24T14:00:00Z"
        booked = await practice.call(
            "booking.book",
            appointment_type_id=FOLLOW_UP,
            provider_id=DR_ADAMS,
            start=first["start"],
        )
        assert booked["start"] == first["start"]
        listing = await practice.call("appointments.list")
        assert [a["id"] for a in listing["upcoming"]] == [booked["id"]]
