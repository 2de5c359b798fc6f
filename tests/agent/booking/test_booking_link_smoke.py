from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.support.practice import DR_ADAMS, FOLLOW_UP, running_practice


async def test_book_and_list_over_the_link(practice_db: DatabaseSettings, link_keys: Path) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        info = await practice.call("practice.info", patient=None)
        assert info["name"] == "Example Family Clinic"
        slots = await practice.call(
            "booking.availability", appointment_type_id=FOLLOW_UP, provider_id=DR_ADAMS, days=3
        )
        first = slots["days"][0]["slots"][0]
        booked = await practice.call(
            "booking.book",
            appointment_type_id=FOLLOW_UP,
            provider_id=DR_ADAMS,
            start=first["start"],
        )
        assert booked["start"] == first["start"]
        listing = await practice.call("appointments.list")
        assert [a["id"] for a in listing["upcoming"]] == [booked["id"]]
