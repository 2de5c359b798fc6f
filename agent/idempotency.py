"""Idempotency keys for patients' changes (portal_idempotency, docs/schema.md).

A change that carries a key first claims the key inside its own transaction, then stores its
reply there before committing. A repeat of the key — a double click, or the proxy retrying
after a lost answer — either waits on the claimed row's lock and then finds the key taken
(:class:`Replay`), or finds it taken at once; it answers with the stored reply instead of acting
again. Booking, message replies and form saves all go through these four functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.db import is_duplicate_key
from agent.errors import Refused
from protocol.errors import ErrorCode


class Replay(Exception):
    """The idempotency key was used before: answer with the stored reply."""


def claim(cursor: Any, patient_id: int, key: str, method: str, digest: str) -> None:
    """Take `key` for this request, or raise Replay when it was taken before. A concurrent
    request with the same key waits on this row's lock until the first one commits."""
    try:
        cursor.execute(
            "INSERT INTO portal_idempotency"
            " (patient_id, idempotency_key, method, request_hash, response)"
            " VALUES (%s, %s, %s, %s, '')",
            (patient_id, key, method, digest),
        )
    except Exception as exc:
        if is_duplicate_key(exc):
            raise Replay() from None
        raise


def store_reply(cursor: Any, patient_id: int, key: str, reply: Mapping[str, Any]) -> None:
    cursor.execute(
        "UPDATE portal_idempotency SET response = %s"
        " WHERE patient_id = %s AND idempotency_key = %s",
        (json.dumps(reply), patient_id, key),
    )


def stored_reply(
    cursor: Any, patient_id: int, key: str | None, method: str, digest: str
) -> dict[str, Any]:
    """The first request's reply, for a repeat of its key. `busy` while that request has not
    committed; `invalid_params` when the key was used for a different request."""
    cursor.execute(
        "SELECT method, request_hash, response FROM portal_idempotency"
        " WHERE patient_id = %s AND idempotency_key = %s",
        (patient_id, key),
    )
    row = cursor.fetchone()
    if row is None or not row["response"]:
        raise Refused(ErrorCode.BUSY, "Your earlier request is still being handled; try again.")
    if row["method"] != method or row["request_hash"] != digest:
        raise Refused(
            ErrorCode.INVALID_PARAMS,
            "idempotency_key: this key was already used for a different request",
        )
    reply: dict[str, Any] = json.loads(row["response"])
    return reply
