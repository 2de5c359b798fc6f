"""Named locks (MariaDB `GET_LOCK`) for the OpenEMR store.

OpenEMR's own writers take no locks at all (README of issue 13, section 7), and Portico may
not add tables or lock rows that OpenEMR's screens update, so Portico's bookings serialise
among themselves on named locks: one per patient and one per provider, always taken in the
order the Protocol gives (patient, appointment, providers by id), so two bookings never wait
on each other in a cycle. A row OpenEMR writes around the locks is caught by the re-check
after insert (changes.py).

A named lock belongs to the connection, not the transaction: COMMIT does not release it. Every
key taken is remembered on the cursor (`take`), and the pool releases them after the
transaction ends, commit or rollback (`release`, called by the store's transaction wrapper).
"""

from __future__ import annotations

from typing import Any

# Seconds a booking waits for another booking of the same provider or patient.
WAIT_SECONDS = 10
_TAKEN = "_portico_named_locks"
# GET_LOCK names are at most 64 characters (MariaDB).
MAX_NAME = 64


class LockTimeout(Exception):
    """Another booking held the lock for longer than WAIT_SECONDS."""


def lock_name(database: str, kind: str, key: str) -> str:
    """A lock name unique to this practice database, e.g. 'portico:openemr:provider:7'."""
    name = f"portico:{database}:{kind}:{key}"
    if len(name) > MAX_NAME:
        # Long database names: keep the distinguishing tail (kind and key).
        name = name[-MAX_NAME:]
    return name


def take(cursor: Any, name: str, wait: int = WAIT_SECONDS) -> None:
    """Hold `name` until `release(cursor)`; waits up to `wait` seconds."""
    taken: list[str] = getattr(cursor, _TAKEN, None) or []
    if name in taken:
        return
    cursor.execute("SELECT GET_LOCK(%s, %s) AS got", (name, wait))
    row = cursor.fetchone()
    if not row or row["got"] != 1:
        raise LockTimeout(name)
    taken.append(name)
    setattr(cursor, _TAKEN, taken)


def held(cursor: Any) -> list[str]:
    """The names this cursor holds, in the order taken."""
    return list(getattr(cursor, _TAKEN, None) or [])


def release(cursor: Any) -> None:
    """Release every name this cursor took (after its transaction ended)."""
    for name in reversed(held(cursor)):
        cursor.execute("DO RELEASE_LOCK(%s)", (name,))
    setattr(cursor, _TAKEN, [])
