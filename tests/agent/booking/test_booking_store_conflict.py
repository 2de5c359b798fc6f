"""A store that finds its slot taken after inserting (agent/store/base.py SlotTaken: a writer
that takes no locks, such as another program on the same calendar, got there in between)
makes the booking refused as `slot_unavailable`, with nothing written but the refusal's audit
row: the appointment it had inserted is rolled back with the transaction.

The store is wrapped (a fault hook, not a sleep): nothing else can make Portico's own schema
raise it, since every writer of its appointments takes the provider locks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from agent.store.base import PracticeStore, SlotTaken, Tx
from tests.agent.booking.test_booking_changes import WEDNESDAY_10AM, _book, _code
from tests.support.practice import running_practice


class TakenAfterInsert:
    """The real store, except that every insert is followed by a failed re-check."""

    def __init__(self, store: PracticeStore) -> None:
        self.store = store
        self.inserted = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def insert_appointment(self, tx: Tx, *args: Any) -> int:
        self.store.insert_appointment(tx, *args)
        self.inserted += 1
        raise SlotTaken


async def test_slot_taken_after_insert_is_refused_and_rolled_back(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        booking = practice.agent.booking
        hook = TakenAfterInsert(booking.store)
        booking.store = hook
        assert await _code(_book(practice, WEDNESDAY_10AM, provider="adams")) == (
            "slot_unavailable"
        )
        assert hook.inserted == 1
        assert practice.query("SELECT id FROM appointments") == []
        audit = practice.query(
            "SELECT outcome FROM portal_audit WHERE action = 'booking.book' ORDER BY id"
        )
        assert audit == [{"outcome": "slot_unavailable"}]
        # The refusal is the last word: with the hook gone the same time books.
        booking.store = hook.store
        assert (await _book(practice, WEDNESDAY_10AM, provider="adams"))["status"] == "booked"
