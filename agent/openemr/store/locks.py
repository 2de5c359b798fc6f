"""Named locks (MariaDB `GET_LOCK`) for the OpenEMR store.

OpenEMR's own writers take no locks at all (README of issue 13, section 7), and Portico may
not add tables or lock rows that OpenEMR's screens update, so Portico's bookings serialise
among themselves on named locks: one per patient and one per provider, always taken in the
order the Protocol gives (patient, appointment, providers by id), so two bookings never wait
on each other in a cycle. A row OpenEMR writes around the locks is caught by the re-check
after insert (changes.py).

A named lock belongs to the connection, not the transaction: COMMIT does not release it. Every
name taken is remembered on the connection (`take`), and released once the transaction has
ended, commit or rollback, on that same connection (`release`, which the store registers with
the pool's `after_every_transaction`, so also for the transactions the services open on the
pool itself). Releasing before the commit would let a second booking
read the calendar before the first booking's row is committed.
"""

from __future__ import annotations

from typing import Any

from agent.errors import Refused
from protocol.errors import ErrorCode

# Seconds a booking waits for another booking of the same provider or patient.
WAIT_SECONDS = 10
_TAKEN = "_portico_named_locks"
# GET_LOCK names are at most 64 characters (MariaDB).
MAX_NAME = 64


CALENDAR_BUSY = "The office's calendar is busy right now. Please try again in a moment."


class LockTimeout(Refused):
    """Another booking held the lock for longer than the wait: a refusal the patient reads
    (busy, try again), whichever service's transaction asked for the lock."""

    def __init__(self, name: str) -> None:
        super().__init__(ErrorCode.BUSY, CALENDAR_BUSY)
        self.lock = name


def lock_name(database: str, kind: str, key: str) -> str:
    """A lock name unique to this practice database, e.g. 'portico:openemr:provider:7'."""
    name = f"portico:{database}:{kind}:{key}"
    if len(name) > MAX_NAME:
        # Long database names: keep the distinguishing tail (kind and key).
        name = name[-MAX_NAME:]
    return name


def _taken(connection: Any) -> list[str]:
    taken: list[str] | None = getattr(connection, _TAKEN, None)
    if taken is None:
        taken = []
        setattr(connection, _TAKEN, taken)
    return taken


def take(cursor: Any, name: str, wait: int = WAIT_SECONDS) -> None:
    """Hold `name` until `release(cursor.connection)`; waits up to `wait` seconds, then
    raises LockTimeout. Taking a name already held by this connection does nothing."""
    taken = _taken(cursor.connection)
    if name in taken:
        return
    cursor.execute("SELECT GET_LOCK(%s, %s) AS got", (name, wait))
    row = cursor.fetchone()
    # 1 taken; 0 timed out; NULL an error (e.g. the session was killed).
    if not row or row["got"] != 1:
        raise LockTimeout(name)
    taken.append(name)


def held(connection: Any) -> list[str]:
    """The names this connection holds, in the order taken."""
    return list(getattr(connection, _TAKEN, None) or [])


def release(connection: Any) -> None:
    """Release every name this connection took; call after its transaction ended. A name
    that fails to release stays listed, so the caller drops the connection (ending the
    session releases it)."""
    taken = _taken(connection)
    if not taken:
        return
    with connection.cursor() as cursor:
        while taken:
            cursor.execute("DO RELEASE_LOCK(%s)", (taken[-1],))
            taken.pop()
