"""The outbox: mail is queued in portal_outbox and delivered from there, so nothing is lost.

An account change and its email commit together (:func:`enqueue` writes with the caller's
cursor), and :class:`OutboxWorker` delivers what is due. While the relay is down the change
still succeeds; the mail waits and is retried with capped, fully jittered exponential backoff.

Claiming a row moves its next_attempt_at forward by a lease, under SELECT ... FOR UPDATE SKIP
LOCKED, and commits before anything is sent: no transaction stays open across the network, and
another worker neither waits for the rows nor sees them as due. If the agent dies mid-send, the
lease runs out and the mail is sent again — at least once, never silently dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from agent.clock import Clock
from agent.db.pool import Database, DatabaseUnavailable
from agent.mail.emails import Attachment, Mail
from agent.mail.senders import (
    FolderSender,
    MailError,
    MailRetryLater,
    MailSender,
    MailUndeliverable,
    SMTPSender,
    build_message,
    sender_from_config,
)

__all__ = [
    "FolderSender",
    "MailError",
    "MailRetryLater",
    "MailSender",
    "MailUndeliverable",
    "OutboxWorker",
    "SMTPSender",
    "build_message",
    "enqueue",
    "retry_delay",
    "sender_from_config",
]

log = structlog.get_logger("portico.mail")

_Statement = tuple[str, tuple[Any, ...]]

_CLAIM = (
    "SELECT id, to_address, subject, body_text, body_html, attachment_name, attachment_type,"
    " attachment_text, attempts FROM portal_outbox"
    " WHERE sent_at IS NULL AND dead = 0 AND next_attempt_at <= %s"
    " ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED"
)
# The bodies hold one-time links (and an appointment's time): once delivered there is no
# reason to keep them.
_SENT = (
    "UPDATE portal_outbox SET sent_at = %s, body_text = '', body_html = '',"
    " attachment_text = NULL, last_error = NULL WHERE id = %s AND sent_at IS NULL"
)
_FAILED = (
    "UPDATE portal_outbox SET attempts = attempts + 1, next_attempt_at = %s, last_error = %s"
    " WHERE id = %s AND sent_at IS NULL AND dead = 0"
)
_DEAD = (
    "UPDATE portal_outbox SET attempts = attempts + 1, dead = 1, last_error = %s"
    " WHERE id = %s AND sent_at IS NULL"
)


def _db_time(moment: datetime) -> datetime:
    """Naive UTC, as every DATETIME column holds (the pool sets the session to +00:00)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def enqueue(cursor: Any, mail: Mail, *, now: datetime) -> int:
    """Queue ``mail`` with the caller's cursor, i.e. inside the caller's transaction, due at
    once; returns the outbox id. If the caller's transaction rolls back, so does the mail."""
    if len(mail.to) > 254:
        raise ValueError("an email address has at most 254 characters")
    stamp = _db_time(now)
    attached = mail.attachment
    if attached is not None and (len(attached.filename) > 100 or len(attached.content_type) > 100):
        raise ValueError("an attachment's name and type have at most 100 characters each")
    cursor.execute(
        "INSERT INTO portal_outbox (to_address, subject, body_text, body_html, attachment_name,"
        " attachment_type, attachment_text, created_at, next_attempt_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            mail.to,
            mail.subject[:255],
            mail.text,
            mail.html,
            attached.filename if attached else None,
            attached.content_type if attached else None,
            attached.text if attached else None,
            stamp,
            stamp,
        ),
    )
    return int(cursor.lastrowid)


def retry_delay(attempts: int, *, base_delay: float, max_delay: float, rng: random.Random) -> float:
    """Seconds to wait after a failure, ``attempts`` being the failures before this one:
    full jitter over [0, min(max_delay, base_delay * 2**attempts)], so many agents whose relay
    comes back at once do not all retry in the same second."""
    ceiling = min(max_delay, base_delay * 2 ** min(attempts, 62))  # no float overflow
    return rng.uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    attempts: int
    mail: Mail


def _claim(cursor: Any, now: datetime, lease_until: datetime, batch: int) -> list[_Claimed]:
    cursor.execute(_CLAIM, (now, batch))
    rows = cursor.fetchall()
    if not rows:
        return []
    ids = [int(row["id"]) for row in rows]
    placeholders = ", ".join(["%s"] * len(ids))
    cursor.execute(
        f"UPDATE portal_outbox SET next_attempt_at = %s WHERE id IN ({placeholders})",
        (lease_until, *ids),
    )
    return [
        _Claimed(
            id=int(row["id"]),
            attempts=int(row["attempts"]),
            mail=Mail(
                to=row["to_address"],
                subject=row["subject"],
                text=row["body_text"],
                html=row["body_html"],
                attachment=_attachment(row),
            ),
        )
        for row in rows
    ]


def _attachment(row: dict[str, Any]) -> Attachment | None:
    if row["attachment_name"] is None or row["attachment_text"] is None:
        return None
    return Attachment(
        filename=row["attachment_name"],
        content_type=row["attachment_type"] or "application/octet-stream",
        text=row["attachment_text"],
    )


def _execute(cursor: Any, statements: list[_Statement]) -> None:
    for sql, params in statements:
        cursor.execute(sql, params)


class OutboxWorker:
    """Delivers due mail from portal_outbox; any number of workers may run side by side."""

    def __init__(
        self,
        db: Database,
        sender: MailSender,
        clock: Clock,
        *,
        batch: int = 20,
        base_delay: float = 30.0,
        max_delay: float = 3600.0,
        claim_seconds: float = 900.0,
        rng: random.Random | None = None,
        prepare: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        """``claim_seconds`` is how long a claimed batch stays invisible to other workers; it
        must outlast sending a whole batch. ``rng`` draws the jitter (tests pass their own).
        ``prepare`` runs first in every round: work deferred off a request path that may queue
        mail (agent/access/recovery.py), so that mail goes out in the same round."""
        self._prepare = tuple(prepare)
        self._db = db
        self._sender = sender
        self._clock = clock
        self._batch = batch
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._claim = timedelta(seconds=claim_seconds)
        self._rng = rng if rng is not None else random.Random()
        # Outcomes of mail already handed to the relay that could not be written because the
        # database went away; written first thing next time, so a sent mail is not sent again.
        self._unrecorded: list[_Statement] = []
        self._last_claimed = 0
        # After the relay itself failed, claim nothing until its retry time: otherwise every
        # poll would take the next batch of due mail just to fail on the relay again.
        self._relay_down_until: datetime | None = None

    async def run_once(self) -> int:
        """Send what is due now; returns how many were sent. Raises DatabaseUnavailable if the
        database cannot be reached (nothing is sent then)."""
        await self._write_unrecorded()
        for prepare in self._prepare:
            try:
                await prepare()
            except DatabaseUnavailable:
                raise
            except Exception as exc:  # a bug there must not stop the mail already queued
                log.error("mail.prepare_failed", error=type(exc).__name__)
        now = self._clock.now()
        self._last_claimed = 0
        if self._relay_down_until is not None and now < self._relay_down_until:
            return 0
        self._relay_down_until = None
        claimed = await self._db.transaction(
            _claim, _db_time(now), _db_time(now + self._claim), self._batch
        )
        self._last_claimed = len(claimed)
        sent = 0
        for index, row in enumerate(claimed):
            try:
                await self._sender.send(row.mail)
            except MailUndeliverable as exc:
                log.error(
                    "mail.undeliverable",
                    outbox_id=row.id,
                    attempts=row.attempts + 1,
                    error=exc.summary,
                )
                await self._record(_DEAD, (exc.summary, row.id))
            except MailRetryLater as exc:
                retry_at = await self._retry_later(row, exc)
                if exc.whole_relay:
                    # The relay is down or refusing us: the rest would only fail (or time out)
                    # the same way. They wait as long as this one, without counting an attempt.
                    self._relay_down_until = retry_at
                    await self._release(claimed[index + 1 :], retry_at)
                    break
            except Exception as exc:  # a bug in a sender must not leave the batch stranded
                log.error("mail.send_failed", outbox_id=row.id, error=type(exc).__name__)
                await self._retry_later(row, MailRetryLater("internal", whole_relay=False))
            else:
                sent += 1
                log.info("mail.sent", outbox_id=row.id, attempts=row.attempts + 1)
                await self._record(_SENT, (_db_time(self._clock.now()), row.id))
        return sent

    async def run_forever(self, stop: asyncio.Event, poll_interval: float = 5.0) -> None:
        """Deliver until ``stop`` is set. Survives any error: a database outage is logged and
        waited out, and so is anything unexpected (logged by type only — exception text may
        quote an address)."""
        while not stop.is_set():
            busy = False
            try:
                await self.run_once()
                busy = self._last_claimed >= self._batch  # more may be due: go again at once
            except DatabaseUnavailable:
                log.warning("mail.database_unavailable")
            except Exception as exc:
                log.error("mail.worker_error", error=type(exc).__name__)
            if busy:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_interval)

    async def _retry_later(self, row: _Claimed, exc: MailRetryLater) -> datetime:
        delay = retry_delay(
            row.attempts, base_delay=self._base_delay, max_delay=self._max_delay, rng=self._rng
        )
        retry_at = self._clock.now() + timedelta(seconds=delay)
        log.warning(
            "mail.retry_later",
            outbox_id=row.id,
            attempts=row.attempts + 1,
            error=exc.summary,
            retry_in_seconds=round(delay),
        )
        await self._record(_FAILED, (_db_time(retry_at), exc.summary, row.id))
        return retry_at

    async def _release(self, rows: list[_Claimed], retry_at: datetime) -> None:
        if not rows:
            return
        ids = [row.id for row in rows]
        placeholders = ", ".join(["%s"] * len(ids))
        sql = (
            f"UPDATE portal_outbox SET next_attempt_at = %s WHERE id IN ({placeholders})"
            " AND sent_at IS NULL AND dead = 0"
        )
        await self._record(sql, (_db_time(retry_at), *ids))

    async def _record(self, sql: str, params: tuple[Any, ...]) -> None:
        try:
            await self._db.transaction(_execute, [(sql, params)])
        except DatabaseUnavailable:
            log.warning("mail.outcome_unrecorded", pending=len(self._unrecorded) + 1)
            self._unrecorded.append((sql, params))

    async def _write_unrecorded(self) -> None:
        if not self._unrecorded:
            return
        statements = list(self._unrecorded)
        await self._db.transaction(_execute, statements)
        del self._unrecorded[: len(statements)]
        log.info("mail.outcomes_recorded", count=len(statements))
