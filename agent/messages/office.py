"""Office messages: the one writer of what staff send (thread, message, attachments, audit
row and notice email), shared by `messages send`, the demo seeder and the tests' seeding
helper, so none of them can store something the others would not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent import audit
from agent.mail.emails import Mail
from agent.mail.outbox import enqueue
from agent.mail.recipients import patient_recipient
from agent.messages import queries as q
from agent.messages.rules import Attachment, MessageRefused, check_attachment_count
from agent.store.base import Lookups

# Makes the notice email: MailTemplates.new_message_notice (to=..., first_name=...).
NoticeMaker = Callable[..., Mail]


@dataclass(frozen=True, slots=True)
class OfficeMessage:
    """A message staff send: a new thread (`subject`) or an answer in `thread_id`.
    Body, subject and author have already passed the checks of agent.messages.rules; an
    empty author means the practice's name."""

    patient_id: int
    body: str
    author: str
    subject: str | None = None
    thread_id: int | None = None
    attachments: tuple[Attachment, ...] = ()
    replies_allowed: bool = True


@dataclass(frozen=True, slots=True)
class SentMessage:
    thread_id: int
    message_id: int
    new_thread: bool
    notice_queued: bool


def write_office_message(
    cursor: Any,
    message: OfficeMessage,
    *,
    actor: str,
    now: datetime,
    notice: NoticeMaker | None,
    lookups: Lookups,
) -> SentMessage:
    """Store an office message (and its thread, if new), its audit row and, if the patient can
    sign in to read it, the notice email. The one way office messages are written: the CLI,
    the demo seeder and the tests' seeding helper all call this. `lookups` is the practice
    store's, for the patient's name. Raises MessageRefused."""
    check_attachment_count(len(message.attachments))
    patient_id = message.patient_id
    if message.thread_id is None:
        if message.subject is None:
            raise MessageRefused("subject", "a new message needs a subject")
        if q.patient_name(cursor, lookups, patient_id) is None:
            raise MessageRefused("patient", f"there is no patient {patient_id}")
        thread_id = q.insert_thread(
            cursor,
            patient_id=patient_id,
            subject=message.subject,
            replies_allowed=message.replies_allowed,
            actor=actor,
            now=now,
        )
    else:
        thread_id = message.thread_id
        if q.thread(cursor, thread_id, patient_id, lock=True) is None:
            raise MessageRefused(
                "thread", f"patient {patient_id} has no message thread {thread_id}"
            )
    message_id = q.insert_message(
        cursor,
        thread_id=thread_id,
        patient_id=patient_id,
        sender="office",
        author=message.author,
        actor=actor,
        body=message.body,
        now=now,
    )
    q.insert_attachments(cursor, message_id, list(message.attachments))
    queued = False
    recipient = patient_recipient(cursor, lookups, patient_id) if notice is not None else None
    if notice is not None and recipient is not None:
        # The email says only that there is a message: no subject, no body, no file names.
        enqueue(cursor, notice(to=recipient.email, first_name=recipient.first_name), now=now)
        queued = True
    audit.record(
        cursor,
        now=now,
        actor=actor,
        patient_id=patient_id,
        action="message.send",
        outcome="ok",
        detail=f"thread:{thread_id} message:{message_id}"
        + (f" attachments:{len(message.attachments)}" if message.attachments else "")
        + (" notice" if queued else ""),
    )
    return SentMessage(thread_id, message_id, message.thread_id is None, queued)
