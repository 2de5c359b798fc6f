"""A conversation the patient starts (`messages.start`): the office's rules for it and the
checks and the writer the service runs in one transaction.

The same rules as everything else in a message (agent/messages/rules.py): subject and body
sizes, and for the one file a patient may attach the office's own attachment rules (allowed
type by name *and* first bytes, 3 MiB). Which topics a patient may pick, and whether they may
start a conversation at all, are the office's (`messages:` in agent.yaml).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from agent import audit, idempotency
from agent.caller import Caller
from agent.config import DEFAULT_TOPICS
from agent.errors import Refused
from agent.messages import queries as q
from agent.messages.rules import (
    ATTACHMENT_MAX_BYTES,
    Attachment,
    MessageRefused,
    check_attachment,
    choose_topic,
    clean_body,
    clean_subject,
    too_large,
)
from agent.store.base import Lookups
from protocol.errors import ErrorCode

START = "messages.start"  # the method name its idempotency keys are stored under
NO_NEW_MESSAGES = (
    "This office does not take new messages through the portal. Please call the office instead."
)
# Each conversation may carry 3 MiB: a cap keeps one account (or a stolen session) from
# filling the office's database. Far above what a patient writes in a day.
STARTS_PER_DAY = 10
TOO_MANY_TODAY = (
    f"You have started {STARTS_PER_DAY} conversations in the last 24 hours, the most the "
    "portal takes. Please wait for the office to answer, or call the office."
)

T = TypeVar("T")


class TooManyToday(Exception):
    """The patient started STARTS_PER_DAY conversations in the last 24 hours: roll back."""


@dataclass(frozen=True, slots=True)
class MessageRules:
    """`messages:` of agent.yaml, as the service uses it."""

    patients_can_start: bool = True
    topics: tuple[str, ...] = DEFAULT_TOPICS


@dataclass(frozen=True, slots=True)
class NewConversation:
    """What the patient sent, checked: the office's topic, subject, body, maybe one file."""

    topic: str
    subject: str
    body: str
    attachment: Attachment | None = None

    def digest(self) -> str:
        """Tells a repeat of the same request (idempotency key) from a different one."""
        file = self.attachment
        request = [
            START,
            self.topic,
            self.subject,
            self.body,
            file.filename if file else None,
            hashlib.sha256(file.data).hexdigest() if file else None,
        ]
        return hashlib.sha256(json.dumps(request, ensure_ascii=False).encode()).hexdigest()


def check_new_conversation(
    rules: MessageRules,
    *,
    topic: str,
    subject: str,
    body: str,
    filename: str | None,
    data_base64: str | None,
) -> NewConversation:
    """The conversation to store, or Refused(invalid_params) naming every field at fault
    ("subject: ...; attachment: ..."), never quoting what the patient wrote."""
    problems: list[str] = []

    def attempt(check: Callable[[], T], field: str | None = None) -> T | None:
        try:
            return check()
        except MessageRefused as refused:
            problems.append(f"{field or refused.field}: {refused.problem}")
            return None

    chosen = attempt(lambda: choose_topic(topic, rules.topics))
    clean = attempt(lambda: clean_subject(subject))
    text = attempt(lambda: clean_body(body))
    file = None
    if filename is not None or data_base64 is not None:
        file = attempt(lambda: _attachment(filename or "", data_base64 or ""), "attachment")
    if problems or chosen is None or clean is None or text is None:
        raise Refused(ErrorCode.INVALID_PARAMS, "; ".join(problems))
    return NewConversation(chosen, clean, text, file)


def _attachment(filename: str, data_base64: str) -> Attachment:
    # Checked before decoding: base64 is 4/3 of the file, so this bounds the work.
    if len(data_base64) > (ATTACHMENT_MAX_BYTES + 2) // 3 * 4:
        raise MessageRefused("attach", too_large(len(data_base64) * 3 // 4))
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise MessageRefused("attach", "the file's data is not valid base64") from None
    return check_attachment(filename, data)


def start_tx(
    cursor: Any,
    lookups: Lookups,
    caller: Caller,
    new: NewConversation,
    key: str | None,
    digest: str,
    now: datetime,
) -> dict[str, Any]:
    """In one transaction: the idempotency key (idempotency.Replay when it was used before),
    the thread, its first message and its file, and the audit row (ids, never text)."""
    if key is not None:
        idempotency.claim(cursor, caller.patient_id, key, START, digest)
    # After the claim, so a repeat of the last allowed request still gets its answer. Two
    # requests at once may both pass at the cap: it bounds abuse, it is not an exact quota.
    since = now - timedelta(days=1)
    if q.threads_started_since(cursor, caller.patient_id, caller.actor, since) >= STARTS_PER_DAY:
        raise TooManyToday()
    result = _write_thread(cursor, lookups, caller, new, now)
    if key is not None:
        idempotency.store_reply(cursor, caller.patient_id, key, result)
    detail = f"thread:{result['thread_id']} message:{result['message_id']}"
    if new.attachment is not None:
        detail += " attachments:1"
    audit.by_patient(cursor, caller, now=now, action="message.start", outcome="ok", detail=detail)
    return result


def _write_thread(
    cursor: Any, lookups: Lookups, caller: Caller, new: NewConversation, now: datetime
) -> dict[str, Any]:
    thread_id = q.insert_thread(
        cursor,
        patient_id=caller.patient_id,
        subject=new.subject,
        replies_allowed=True,
        actor=caller.actor,
        now=now,
        started_by="patient",
        topic=new.topic,
    )
    message_id = q.insert_patient_message(
        cursor,
        lookups,
        thread_id=thread_id,
        patient_id=caller.patient_id,
        actor=caller.actor,
        body=new.body,
        now=now,
    )
    q.insert_attachments(cursor, message_id, [new.attachment] if new.attachment else [])
    return {"thread_id": thread_id, "message_id": message_id}
