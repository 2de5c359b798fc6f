"""Secure messages between the office and its patients, one transaction per action.

The patient side (the link methods) acts only on the session's patient: every query carries
that patient's id, so another patient's thread or attachment and a missing one both give the
same `not_found`. The staff side (the CLI) may act on any patient. Every read of a message
and every write leaves an audit row (ids and codes, never text) in the same transaction, and
an office message and the notice email about it commit together or not at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent import audit, idempotency
from agent.caller import Caller
from agent.clock import Clock
from agent.db import Database
from agent.errors import Refused
from agent.messages import queries as q
from agent.messages.office import NoticeMaker, OfficeMessage, SentMessage, write_office_message
from agent.messages.rules import AUTHOR_MAX, MessageRefused, clean_body
from agent.messages.start import (
    NO_NEW_MESSAGES,
    START,
    STARTS_PER_DAY,
    TOO_MANY_TODAY,
    MessageRules,
    TooManyToday,
    check_new_conversation,
    start_tx,
)
from agent.store.base import Lookups
from protocol.errors import ErrorCode

REPLY = "messages.reply"  # the method name its idempotency keys are stored under
IDEMPOTENCY_KEY_MAX = 128  # portal_idempotency.idempotency_key
THREAD_NOT_FOUND = "That message was not found."
ATTACHMENT_NOT_FOUND = "That attachment was not found."
NO_REPLIES = "This message does not take replies. Please call the office instead."


class MessageService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        zone: ZoneInfo,
        *,
        practice_name: str,
        notice: NoticeMaker | None,
        lookups: Lookups,
        rules: MessageRules | None = None,
    ) -> None:
        self.db = db
        self.lookups = lookups  # the practice store's: patients' names
        self.clock = clock
        self.zone = zone
        self.practice_name = practice_name
        self.notice = notice
        self.rules = rules or MessageRules()

    # -- patient side ------------------------------------------------------------------------

    async def unread_count(self, caller: Caller) -> dict[str, Any]:
        # A count, not PHI: asked on every portal page, and not audited (docs/protocol.md).
        return {"unread": await self.db.transaction(q.unread_count, caller.patient_id)}

    async def list_threads(self, caller: Caller) -> dict[str, Any]:
        now = self.clock.now()

        def read(cursor: Any) -> list[dict[str, Any]]:
            rows = q.patient_threads(cursor, caller.patient_id)
            self._audit(cursor, caller, now, "message.list", "ok", f"threads:{len(rows)}")
            return rows

        rows = await self.db.transaction(read)
        threads = [
            {
                "id": row["id"],
                "subject": row["subject"],
                "topic": row["topic"],
                "last_at": _iso_utc(row["last_message_at"]),
                "local_last": self._local(row["last_message_at"]),
                "unread": int(row["unread"] or 0),
                "messages": int(row["messages"]),
                "last_from": row["last_sender"],
            }
            for row in rows
        ]
        return {
            "threads": threads,
            "unread": sum(t["unread"] for t in threads),
            "can_start": self.rules.patients_can_start,
        }

    def start_options(self) -> dict[str, Any]:
        """Whether the patient may start a conversation, and about which topics: office
        settings, not PHI, so not audited."""
        return {"can_start": self.rules.patients_can_start, "topics": list(self.rules.topics)}

    async def thread(
        self, caller: Caller, thread_id: int, *, mark_read: bool = True
    ) -> dict[str, Any]:
        """The patient's thread. With mark_read false its office messages stay unread: the
        proxy asks for that when the page was opened from another site's link, which the
        patient may not have meant to follow (docs/protocol.md, messages.thread)."""
        now = self.clock.now()

        def read(cursor: Any) -> dict[str, Any] | None:
            row = q.thread(cursor, thread_id, caller.patient_id)
            if row is None:
                self._audit(cursor, caller, now, "message.read", "not_found", f"thread:{thread_id}")
                return None
            row["messages"] = q.thread_messages(cursor, thread_id)
            if mark_read:
                # Opening the thread is reading its office messages.
                q.mark_read_by_patient(cursor, thread_id, now)
            self._audit(cursor, caller, now, "message.read", "ok", f"thread:{thread_id}")
            return row

        row = await self.db.transaction(read)
        if row is None:
            raise Refused(ErrorCode.NOT_FOUND, THREAD_NOT_FOUND)
        return {
            "id": row["id"],
            "subject": row["subject"],
            "topic": row["topic"],
            "can_reply": bool(row["replies_allowed"]),
            "messages": [self._message_view(m) for m in row["messages"]],
        }

    async def reply(
        self, caller: Caller, thread_id: int, body: str, idempotency_key: str | None
    ) -> dict[str, Any]:
        """The patient answers in one of their threads."""
        try:
            body = clean_body(body)
        except MessageRefused as refused:
            raise Refused(ErrorCode.INVALID_PARAMS, str(refused)) from None
        _check_key(idempotency_key)
        now = self.clock.now()
        request = json.dumps([REPLY, thread_id, body], ensure_ascii=False)
        digest = hashlib.sha256(request.encode()).hexdigest()
        try:
            outcome = await self.db.transaction(
                self._reply_tx, caller, thread_id, body, idempotency_key, digest, now
            )
        except idempotency.Replay:
            return await self.db.transaction(
                idempotency.stored_reply, caller.patient_id, idempotency_key, REPLY, digest
            )
        if outcome == "not_found":
            raise Refused(ErrorCode.NOT_FOUND, THREAD_NOT_FOUND)
        if outcome == "forbidden":
            raise Refused(ErrorCode.FORBIDDEN, NO_REPLIES)
        assert isinstance(outcome, dict)
        return outcome

    def _reply_tx(
        self,
        cursor: Any,
        caller: Caller,
        thread_id: int,
        body: str,
        key: str | None,
        digest: str,
        now: datetime,
    ) -> dict[str, Any] | str:
        # Lock order: the thread, then the idempotency row. A repeat of the key for the same
        # thread waits on the thread; once we commit it hits the duplicate key and replays.
        row = q.thread(cursor, thread_id, caller.patient_id, lock=True)
        outcome = "not_found" if row is None else "ok"
        if row is not None and not row["replies_allowed"]:
            outcome = "forbidden"
        if outcome != "ok":
            self._audit(cursor, caller, now, "message.reply", outcome, f"thread:{thread_id}")
            return outcome
        if key is not None:
            idempotency.claim(cursor, caller.patient_id, key, REPLY, digest)
        message_id = q.insert_patient_message(
            cursor,
            self.lookups,
            thread_id=thread_id,
            patient_id=caller.patient_id,
            actor=caller.actor,
            body=body,
            now=now,
        )
        result = {"thread_id": thread_id, "message_id": message_id}
        if key is not None:
            idempotency.store_reply(cursor, caller.patient_id, key, result)
        self._audit(
            cursor, caller, now, "message.reply", "ok", f"thread:{thread_id} message:{message_id}"
        )
        return result

    async def start(
        self,
        caller: Caller,
        *,
        topic: str,
        subject: str,
        body: str,
        filename: str | None = None,
        data_base64: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """The patient starts a conversation with the office (when the office allows it)."""
        now = self.clock.now()
        if not self.rules.patients_can_start:
            await self.db.transaction(
                self._audit, caller, now, "message.start", "forbidden", "patients_can_start:off"
            )
            raise Refused(ErrorCode.FORBIDDEN, NO_NEW_MESSAGES)
        new = check_new_conversation(
            self.rules,
            topic=topic,
            subject=subject,
            body=body,
            filename=filename,
            data_base64=data_base64,
        )
        _check_key(idempotency_key)
        digest = new.digest()
        try:
            return await self.db.transaction(
                start_tx, self.lookups, caller, new, idempotency_key, digest, now
            )
        except TooManyToday:
            detail = f"per_day:{STARTS_PER_DAY}"
            await self.db.transaction(
                self._audit, caller, now, "message.start", "limit_reached", detail
            )
            raise Refused(ErrorCode.LIMIT_REACHED, TOO_MANY_TODAY) from None
        except idempotency.Replay:
            return await self.db.transaction(
                idempotency.stored_reply, caller.patient_id, idempotency_key, START, digest
            )

    async def attachment(self, caller: Caller, attachment_id: int) -> dict[str, Any]:
        now = self.clock.now()

        def read(cursor: Any) -> dict[str, Any] | None:
            row = q.attachment(cursor, attachment_id, caller.patient_id)
            outcome = "ok" if row is not None else "not_found"
            detail = f"attachment:{attachment_id}"
            if row is not None:
                detail += f" message:{row['message_id']}"
            self._audit(cursor, caller, now, "message.attachment", outcome, detail)
            return row

        row = await self.db.transaction(read)
        if row is None:
            raise Refused(ErrorCode.NOT_FOUND, ATTACHMENT_NOT_FOUND)
        return {
            "filename": row["filename"],
            "content_type": row["content_type"],
            "size": int(row["size"]),
            "data": base64.b64encode(row["data"]).decode("ascii"),
        }

    # -- staff side --------------------------------------------------------------------------

    async def send(self, actor: str, message: OfficeMessage) -> SentMessage:
        """Staff send a message (CLI). Raises MessageRefused, after auditing the refusal."""
        now = self.clock.now()
        if not message.author:
            message = replace(message, author=self.practice_name[:AUTHOR_MAX])
        try:
            return await self.db.transaction(
                lambda cursor: write_office_message(
                    cursor, message, actor=actor, now=now, notice=self.notice, lookups=self.lookups
                )
            )
        except MessageRefused as refused:
            if refused.field in ("patient", "thread"):
                await self.db.transaction(
                    audit.by_staff,
                    now,
                    actor,
                    message.patient_id,
                    "message.send",
                    "not_found",
                    f"thread:{message.thread_id}" if message.thread_id else None,
                )
            raise

    async def staff_threads(
        self, actor: str, patient_id: int | None, unread_only: bool
    ) -> list[dict[str, Any]]:
        now = self.clock.now()

        def read(cursor: Any) -> list[dict[str, Any]]:
            rows = q.staff_threads(cursor, self.lookups, patient_id, unread_only)
            _audit_staff_listing(cursor, now, actor, patient_id, unread_only, rows)
            return rows

        rows = await self.db.transaction(read)
        for row in rows:
            row["local_last"] = self._local(row["last_message_at"])
        return rows

    async def staff_thread(self, actor: str, thread_id: int) -> dict[str, Any]:
        """The whole thread for staff; its patient replies count as read by staff from now."""
        now = self.clock.now()

        def read(cursor: Any) -> dict[str, Any] | None:
            row = q.thread(cursor, thread_id, None)
            if row is None:
                detail = f"thread:{thread_id}"
                audit.by_staff(cursor, now, actor, None, "message.staff_read", "not_found", detail)
                return None
            row["patient"] = q.patient_name(cursor, self.lookups, row["patient_id"])
            row["messages"] = q.thread_messages(cursor, thread_id)
            q.mark_read_by_staff(cursor, thread_id, now)
            audit.by_staff(
                cursor,
                now,
                actor,
                row["patient_id"],
                "message.staff_read",
                "ok",
                f"thread:{thread_id}",
            )
            return row

        row = await self.db.transaction(read)
        if row is None:
            raise MessageRefused("thread", f"there is no message thread {thread_id}")
        for message in row["messages"]:
            message["local_sent"] = self._local(message["sent_at"])
        return row

    # -- helpers -----------------------------------------------------------------------------

    def _audit(
        self, cursor: Any, caller: Caller, now: datetime, action: str, outcome: str, detail: str
    ) -> None:
        audit.by_patient(cursor, caller, now=now, action=action, outcome=outcome, detail=detail)

    def _local(self, stamp: datetime) -> str:
        return stamp.replace(tzinfo=UTC).astimezone(self.zone).isoformat()

    def _message_view(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "from": row["sender"],
            "author": row["author"],
            "sent_at": _iso_utc(row["sent_at"]),
            "local_sent": self._local(row["sent_at"]),
            "body": row["body"],
            "attachments": [
                {
                    "id": a["id"],
                    "filename": a["filename"],
                    "content_type": a["content_type"],
                    "size": int(a["size"]),
                }
                for a in row["attachments"]
            ],
        }


def _check_key(key: str | None) -> None:
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        raise Refused(
            ErrorCode.INVALID_PARAMS, f"idempotency_key: at most {IDEMPOTENCY_KEY_MAX} characters"
        )


def _iso_utc(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _audit_staff_listing(
    cursor: Any,
    now: datetime,
    actor: str,
    patient_id: int | None,
    unread_only: bool,
    rows: list[dict[str, Any]],
) -> None:
    """One `message.list` row per patient whose threads were shown, so the trail says whose
    names and subjects staff saw; a listing that showed nobody still leaves one row (for the
    asked patient, or none) saying it happened."""
    flag = " unread" if unread_only else ""
    threads_by_patient = Counter(int(row["patient_id"]) for row in rows)
    if not threads_by_patient:
        audit.by_staff(cursor, now, actor, patient_id, "message.list", "ok", f"threads:0{flag}")
    for listed, count in sorted(threads_by_patient.items()):
        audit.by_staff(cursor, now, actor, listed, "message.list", "ok", f"threads:{count}{flag}")
