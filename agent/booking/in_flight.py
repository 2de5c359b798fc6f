"""Bookings under way in this agent: who is about to take a provider's time, so that a
booking for an overlapping interval waits for it on the event loop instead of in the database.

Why: every booking that finds its slot free locks the provider (the store's lock_providers)
and checks again; the lock, not this module, is what makes double booking impossible. When
many patients ask for one slot at once, each of them would hold a worker thread and a
connection while queued on that lock, and then check again one by one: refusals would wait
behind every first attempt. Here a transaction that has found its slot free, just before it
locks, records its interval (:meth:`BookingsInFlight.hold`). A second one arriving at the same
point for an overlapping interval of a provider it shares gives up its transaction instead of
queueing (:class:`WaitFor`: rolled back, nothing audited, no thread held) and starts again once
the first has ended. Starting again, it reads what the first one committed: if the first
booked the time, the slot is refused then from committed rows (never from this registry); if
the first failed or rolled back, the slot is still free and the second books it.

So this registry never decides an answer. If it is wrong or empty (another agent process, a
booking made in the practice's own software), bookings fall back to waiting on the lock, which
is correct, only slower. Entries are held from the worker thread and released on the event
loop once the transaction has ended (after its COMMIT), hence the threading lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(eq=False)
class Hold:
    """One booking's time, held from the moment its slot looked free until its transaction
    has ended; `ended` is set on the event loop."""

    providers: frozenset[int]
    start: int
    end: int
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def overlaps(self, providers: Sequence[int], start: int, end: int) -> bool:
        return self.start < end and start < self.end and not self.providers.isdisjoint(providers)


class WaitFor(Exception):
    """Raised inside a transaction: an overlapping booking is under way; roll back, wait for
    `hold.ended`, then run the transaction again."""

    def __init__(self, hold: Hold) -> None:
        super().__init__("an overlapping booking is under way")
        self.hold = hold


class Claims:
    """The holds one change request has taken, across the attempts of its transaction (a
    deadlock retry runs the same function again: it must not wait for itself)."""

    def __init__(self) -> None:
        self.held: list[Hold] = []
        self.waits = 0  # how many times this request gave way
        self.closed = False  # the request has ended: it holds nothing any more


class BookingsInFlight:
    """The agent's registry of held booking intervals (module docstring)."""

    # After giving way this many times (each time to a booking that then did not take the
    # slot), a request stops giving way and queues on the lock like any other.
    MAX_WAITS = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: list[Hold] = []

    def __len__(self) -> int:
        return len(self._holds)

    def hold(self, claims: Claims, providers: Sequence[int], start: int, end: int) -> None:
        """Record that this request is about to lock `providers` for [start, end), or raise
        WaitFor if another request holds an overlapping interval of one of them. Called from
        the worker thread, inside the transaction, before the store's lock_providers."""
        with self._lock:
            if claims.closed:
                return  # the request is gone (cancelled); its thread books under the lock alone
            mine = [h for h in claims.held if h.overlaps(providers, start, end)]
            if mine:
                return
            if claims.waits < self.MAX_WAITS:
                for other in self._holds:
                    if other.overlaps(providers, start, end):
                        raise WaitFor(other)
            hold = Hold(frozenset(providers), start, end)
            self._holds.append(hold)
            claims.held.append(hold)

    def release(self, claims: Claims) -> None:
        """The request's transaction has ended (committed or rolled back): let waiters go.
        Called on the event loop."""
        with self._lock:
            for hold in claims.held:
                self._holds.remove(hold)
        for hold in claims.held:
            hold.ended.set()
        claims.held.clear()

    def close(self, claims: Claims) -> None:
        """The request has ended for good (answered, failed or cancelled): release what it
        holds, and let it take nothing more (its worker thread may still be running)."""
        with self._lock:
            claims.closed = True
        self.release(claims)

    async def wait(self, claims: Claims, waiting: WaitFor) -> None:
        """Wait (on the event loop, holding nothing) until the booking that `waiting` names
        has ended."""
        claims.waits += 1
        await waiting.hold.ended.wait()
