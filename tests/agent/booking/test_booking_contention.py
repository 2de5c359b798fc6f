"""Booking under contention (issue 14, Build 4): a refusal does not wait behind first attempts,
and a loser is refused only once the winner has committed, on both practice systems.

A booking whose slot looks free holds its interval in the agent (agent/booking/in_flight.py);
one arriving for an overlapping interval meanwhile gives way and starts again when the first
has ended. The winner is paused with a store wrapper (it stops inside lock_providers, on its
worker thread, until the test lets it go) and the loser's giving way is observed by wrapping
the registry: hooks and events, no sleeps.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.booking.in_flight import BookingsInFlight, WaitFor
from agent.caller import Caller
from agent.store.base import PracticeStore, Provider, Tx
from protocol.aio import RemoteError
from tests.agent.booking.test_booking_changes import _book, _code
from tests.support.practice import RunningPractice, SmallPractice, running_practice

WEDNESDAY_2PM = "2026-11-25T19:00:00Z"  # 14:00 New York, same provider, no overlap
EVENT_WAIT = 20  # seconds: a bound on a wait that should end at once, never a pause


class PausedLock:
    """The real store, except that the first lock_providers stops on its worker thread until
    `resume` is set: before taking the lock, or (after=True) while holding it."""

    def __init__(self, store: PracticeStore, *, after: bool = False) -> None:
        self.store = store
        self.after = after
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.connection_id: int | None = None
        self._calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def lock_providers(self, tx: Tx, type_id: int, provider_id: int | None) -> list[Provider]:
        self._calls += 1
        first = self._calls == 1
        if first and not self.after:
            self._pause(tx)
        providers = self.store.lock_providers(tx, type_id, provider_id)
        if first and self.after:
            self._pause(tx)
        return providers

    def _pause(self, tx: Tx) -> None:
        self.connection_id = tx.connection.thread_id()
        self.paused.set()
        assert self.resume.wait(EVENT_WAIT), "the test never let the paused booking go"


class WatchedInFlight:
    """The agent's registry, telling the test when a request gives way."""

    def __init__(self, registry: BookingsInFlight) -> None:
        self.registry = registry
        self.gave_way = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.registry, name)

    async def wait(self, claims: Any, waiting: WaitFor) -> None:
        self.gave_way.set()
        await self.registry.wait(claims, waiting)


def _wrap(practice: RunningPractice, *, after: bool = False) -> tuple[PausedLock, WatchedInFlight]:
    booking = practice.agent.booking
    paused = PausedLock(booking.store, after=after)
    watched = WatchedInFlight(booking.in_flight)
    booking.store = paused  # type: ignore[assignment]
    booking.in_flight = watched  # type: ignore[assignment]
    return paused, watched


async def _until(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, EVENT_WAIT)


def _audit(practice: RunningPractice) -> list[tuple[int, str]]:
    rows = practice.query(
        "SELECT patient_id, outcome FROM portal_audit WHERE action = 'booking.book'"
        " ORDER BY patient_id, id"
    )
    return [(row["patient_id"], row["outcome"]) for row in rows]


async def test_loser_waits_for_the_winner_and_is_refused_once_it_committed(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        ids = practice.ids
        paused, watched = _wrap(practice)
        winner = asyncio.create_task(_book(practice, patient=1))
        await _until(paused.paused)  # the winner holds 10:00 and is about to lock Dr. Adams
        loser = asyncio.create_task(_book(practice, patient=2))
        await asyncio.wait_for(watched.gave_way.wait(), EVENT_WAIT)
        # While the winner is under way nobody knows yet whether it books: no answer.
        assert not loser.done()
        paused.resume.set()
        assert (await winner)["status"] == "booked"
        assert await _code(loser) == "slot_unavailable"
        assert practice.appointments("patient_id", status="booked") == [
            {"patient_id": ids.patient(1)}
        ]
        # One audit row per attempt; the loser's gave way once, leaving no row for that.
        assert _audit(practice) == [
            (ids.patient(1), "ok"),
            (ids.patient(2), "slot_unavailable"),
        ]


async def test_loser_books_the_slot_when_the_winner_rolled_back(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        ids = practice.ids
        paused, watched = _wrap(practice)
        winner = asyncio.create_task(_book(practice, patient=1))
        await _until(paused.paused)
        loser = asyncio.create_task(_book(practice, patient=2))
        await asyncio.wait_for(watched.gave_way.wait(), EVENT_WAIT)
        # The winner's connection dies before it books (a real fault: MariaDB ends the
        # session), so its transaction rolls back and the slot is still free.
        assert paused.connection_id is not None
        practice.query(f"KILL CONNECTION {int(paused.connection_id)}")
        paused.resume.set()
        assert await _code(winner) == "unavailable"
        assert (await loser)["status"] == "booked"
        assert practice.appointments("patient_id", status="booked") == [
            {"patient_id": ids.patient(2)}
        ]
        # The winner's attempt wrote nothing (its transaction never committed); the loser's
        # is audited once.
        assert _audit(practice) == [(ids.patient(2), "ok")]


async def test_a_taken_slot_is_refused_while_the_provider_lock_is_held(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """The losers of a decided race do not queue behind a booking of another time of the
    same provider that holds the provider's lock: committed rows already refuse them."""
    async with running_practice(small_practice, link_keys) as practice:
        ids = practice.ids
        assert (await _book(practice, patient=1))["status"] == "booked"  # 10:00 taken
        paused, _ = _wrap(practice, after=True)
        other = asyncio.create_task(_book(practice, WEDNESDAY_2PM, patient=3))
        await _until(paused.paused)  # holds Dr. Adams's lock, 14:00 not yet booked
        try:
            refused = asyncio.create_task(_book(practice, patient=2))
            done, _ = await asyncio.wait({refused}, timeout=EVENT_WAIT)
            assert done == {refused}, "the refusal waited for the provider lock"
            assert isinstance(refused.exception(), RemoteError)
            assert await _code(refused) == "slot_unavailable"
            assert not other.done()
        finally:
            paused.resume.set()
        assert (await other)["status"] == "booked"
        assert _audit(practice) == [
            (ids.patient(1), "ok"),
            (ids.patient(2), "slot_unavailable"),
            (ids.patient(3), "ok"),
        ]


async def test_fifty_racing_bookings_leave_one_audit_row_each(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with running_practice(small_practice, link_keys) as practice:
        ids = practice.ids

        async def one(n: int) -> str:
            try:
                return str((await _book(practice, patient=n))["status"])
            except RemoteError as exc:
                return exc.code

        results = await asyncio.gather(*(one(n) for n in range(1, 51)))
        assert sorted(results) == ["booked"] + ["slot_unavailable"] * 49
        audit = _audit(practice)
        assert sorted(patient for patient, _ in audit) == [ids.patient(n) for n in range(1, 51)]
        assert sorted(outcome for _, outcome in audit) == ["ok"] + ["slot_unavailable"] * 49
        # The booked one is the patient audited "ok".
        (booked,) = practice.appointments("patient_id", status="booked")
        assert (booked["patient_id"], "ok") in audit
        # Nothing is left held once every answer is in.
        assert len(practice.agent.booking.in_flight) == 0


class PausedBeforeHold:
    """The real store, except that the first `providers` read (just before a booking takes
    its hold) stops on its worker thread until `resume` is set; `finished` is set when that
    transaction's function has returned or raised, on the worker thread."""

    def __init__(self, store: PracticeStore) -> None:
        self.store = store
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.finished = threading.Event()
        self._calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def providers(self, tx: Tx, *args: Any) -> list[Provider]:
        self._calls += 1
        if self._calls == 1:
            self.paused.set()
            assert self.resume.wait(EVENT_WAIT), "the test never let the paused booking go"
        return self.store.providers(tx, *args)

    async def transaction(self, fn: Any, *args: Any) -> Any:
        def watched(tx: Tx, *rest: Any) -> Any:
            try:
                return fn(tx, *rest)
            finally:
                self.finished.set()

        return await self.store.transaction(watched, *args)


async def test_a_booking_cancelled_before_its_hold_leaves_no_hold_behind(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """The request's task is cancelled (the proxy's deadline, a dropped link) while its worker
    thread is still before `hold`: when that thread gets there, it must hold nothing, or every
    later booking of that provider and time would give way to a hold nobody releases."""
    async with running_practice(small_practice, link_keys) as practice:
        booking = practice.agent.booking
        paused = PausedBeforeHold(booking.store)
        booking.store = paused  # type: ignore[assignment]
        ids = practice.ids
        request = asyncio.create_task(
            booking.book(
                Caller(patient_id=ids.patient(1)),
                ids.FOLLOW_UP,
                ids.DR_ADAMS,
                datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
                None,
            )
        )
        await _until(paused.paused)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        paused.resume.set()
        await _until(paused.finished)  # the worker has passed where it takes its hold
        assert len(booking.in_flight) == 0
