"""The SQL of secure messages. Each function takes the caller's (dict) cursor, so it runs
inside the caller's transaction; none of them commits. Patients' names are the practice's:
they are read through the practice store's :class:`~agent.store.base.Lookups` (OpenEMR's
`patient_data` is in another database), never joined here.

Patient-side reads always carry the session's patient id in the WHERE clause: another
patient's thread or attachment and a missing one give the same empty answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.messages.rules import Attachment
from agent.store.base import Lookups


def db_time(moment: datetime) -> datetime:
    """Naive UTC, as every DATETIME column holds (the pool sets the session to +00:00)."""
    return moment.replace(tzinfo=None, microsecond=0)


# -- patient side ----------------------------------------------------------------------------


def unread_count(cursor: Any, patient_id: int) -> int:
    cursor.execute(
        "SELECT COUNT(*) AS n FROM portal_messages"
        " WHERE patient_id = %s AND sender = 'office' AND read_by_patient_at IS NULL",
        (patient_id,),
    )
    return int(cursor.fetchone()["n"])


def patient_threads(cursor: Any, patient_id: int) -> list[dict[str, Any]]:
    cursor.execute(
        "SELECT t.id, t.subject, t.topic, t.last_message_at, t.last_sender, COUNT(*) AS messages,"
        " SUM(m.sender = 'office' AND m.read_by_patient_at IS NULL) AS unread"
        " FROM portal_message_threads t JOIN portal_messages m ON m.thread_id = t.id"
        " WHERE t.patient_id = %s"
        " GROUP BY t.id ORDER BY t.last_message_at DESC, t.id DESC",
        (patient_id,),
    )
    return list(cursor.fetchall())


def thread(
    cursor: Any, thread_id: int, patient_id: int | None, *, lock: bool = False
) -> dict[str, Any] | None:
    """The thread, if it exists and (when patient_id is given) is that patient's."""
    sql = (
        "SELECT id, patient_id, subject, topic, replies_allowed, created_by, created_at,"
        " last_message_at, last_sender FROM portal_message_threads WHERE id = %s"
    )
    args: tuple[Any, ...] = (thread_id,)
    if patient_id is not None:
        sql += " AND patient_id = %s"
        args += (patient_id,)
    cursor.execute(sql + (" FOR UPDATE" if lock else ""), args)
    row: dict[str, Any] | None = cursor.fetchone()
    return row


def thread_messages(cursor: Any, thread_id: int) -> list[dict[str, Any]]:
    """The messages oldest first, each with its attachments' descriptions (not their data)."""
    cursor.execute(
        "SELECT id, sender, author, body, sent_at, read_by_patient_at, read_by_staff_at"
        " FROM portal_messages WHERE thread_id = %s ORDER BY sent_at, id",
        (thread_id,),
    )
    messages = list(cursor.fetchall())
    cursor.execute(
        "SELECT a.id, a.message_id, a.filename, a.content_type, a.size"
        " FROM portal_message_attachments a JOIN portal_messages m ON m.id = a.message_id"
        " WHERE m.thread_id = %s ORDER BY a.message_id, a.position",
        (thread_id,),
    )
    by_message: dict[int, list[dict[str, Any]]] = {}
    for row in cursor.fetchall():
        by_message.setdefault(row["message_id"], []).append(row)
    for message in messages:
        message["attachments"] = by_message.get(message["id"], [])
    return messages


def mark_read_by_patient(cursor: Any, thread_id: int, now: datetime) -> int:
    return int(
        cursor.execute(
            "UPDATE portal_messages SET read_by_patient_at = %s"
            " WHERE thread_id = %s AND sender = 'office' AND read_by_patient_at IS NULL",
            (db_time(now), thread_id),
        )
    )


def mark_read_by_staff(cursor: Any, thread_id: int, now: datetime) -> int:
    return int(
        cursor.execute(
            "UPDATE portal_messages SET read_by_staff_at = %s"
            " WHERE thread_id = %s AND sender = 'patient' AND read_by_staff_at IS NULL",
            (db_time(now), thread_id),
        )
    )


def attachment(cursor: Any, attachment_id: int, patient_id: int) -> dict[str, Any] | None:
    cursor.execute(
        "SELECT a.id, a.message_id, m.thread_id, a.filename, a.content_type, a.size, a.data"
        " FROM portal_message_attachments a JOIN portal_messages m ON m.id = a.message_id"
        " WHERE a.id = %s AND m.patient_id = %s",
        (attachment_id, patient_id),
    )
    row: dict[str, Any] | None = cursor.fetchone()
    return row


def patient_name(cursor: Any, lookups: Lookups, patient_id: int) -> dict[str, Any] | None:
    """The patient's id and name, from the practice's data; None if there is no such patient."""
    name = lookups.patient_names(cursor, [patient_id]).get(patient_id)
    if name is None:
        return None
    return {"id": patient_id, "first_name": name.first_name, "last_name": name.last_name}


def patient_author(cursor: Any, lookups: Lookups, patient_id: int) -> str:
    """The name shown above a patient's own messages: as the office registered them."""
    name = lookups.patient_names(cursor, [patient_id]).get(patient_id)
    return (name.full if name is not None else "") or "Patient"


# -- writing ---------------------------------------------------------------------------------


def threads_started_since(cursor: Any, patient_id: int, actor: str, since: datetime) -> int:
    """How many of the patient's threads `actor` (patient:<id>) started after `since`."""
    cursor.execute(
        "SELECT COUNT(*) AS n FROM portal_message_threads"
        " WHERE patient_id = %s AND created_by = %s AND created_at > %s",
        (patient_id, actor[:64], db_time(since)),
    )
    return int(cursor.fetchone()["n"])


def insert_thread(
    cursor: Any,
    *,
    patient_id: int,
    subject: str,
    replies_allowed: bool,
    actor: str,
    now: datetime,
    started_by: str = "office",
    topic: str | None = None,
) -> int:
    """A new thread; `started_by` is the side of its first message (office or patient)."""
    stamp = db_time(now)
    cursor.execute(
        "INSERT INTO portal_message_threads (patient_id, subject, topic, replies_allowed,"
        " created_by, created_at, last_message_at, last_sender)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (patient_id, subject, topic, int(replies_allowed), actor[:64], stamp, stamp, started_by),
    )
    return int(cursor.lastrowid)


def insert_message(
    cursor: Any,
    *,
    thread_id: int,
    patient_id: int,
    sender: str,
    author: str,
    actor: str,
    body: str,
    now: datetime,
) -> int:
    stamp = db_time(now)
    cursor.execute(
        "INSERT INTO portal_messages (thread_id, patient_id, sender, author, actor, body,"
        " sent_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (thread_id, patient_id, sender, author[:200], actor[:64], body, stamp),
    )
    message_id = int(cursor.lastrowid)
    cursor.execute(
        "UPDATE portal_message_threads SET last_message_at = %s, last_sender = %s WHERE id = %s",
        (stamp, sender, thread_id),
    )
    return message_id


def insert_patient_message(
    cursor: Any,
    lookups: Lookups,
    *,
    thread_id: int,
    patient_id: int,
    actor: str,
    body: str,
    now: datetime,
) -> int:
    """A message the patient wrote, under their name as the office registered it."""
    return insert_message(
        cursor,
        thread_id=thread_id,
        patient_id=patient_id,
        sender="patient",
        author=patient_author(cursor, lookups, patient_id),
        actor=actor,
        body=body,
        now=now,
    )


def insert_attachments(cursor: Any, message_id: int, attachments: list[Attachment]) -> None:
    # One statement each: a 3 MiB value stays far below the server's max_allowed_packet,
    # five of them in one statement might not.
    for position, item in enumerate(attachments, start=1):
        cursor.execute(
            "INSERT INTO portal_message_attachments"
            " (message_id, position, filename, content_type, size, data)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (message_id, position, item.filename, item.content_type, item.size, item.data),
        )


# -- staff side ------------------------------------------------------------------------------


def staff_threads(
    cursor: Any, lookups: Lookups, patient_id: int | None, unread_only: bool
) -> list[dict[str, Any]]:
    """Threads newest first, with the patient's name (empty if the practice no longer has the
    patient) and the replies staff have not read."""
    where: list[str] = []
    args: list[Any] = []
    if patient_id is not None:
        where.append("t.patient_id = %s")
        args.append(patient_id)
    if unread_only:
        # Served by portal_messages_staff_unread: no scan of every thread in the practice.
        where.append(
            "t.id IN (SELECT thread_id FROM portal_messages"
            " WHERE sender = 'patient' AND read_by_staff_at IS NULL)"
        )
    cursor.execute(
        "SELECT t.id, t.patient_id, t.subject, t.topic, t.last_message_at,"
        " t.last_sender, COUNT(*) AS messages,"
        " SUM(m.sender = 'patient' AND m.read_by_staff_at IS NULL) AS unread_replies"
        " FROM portal_message_threads t"
        " JOIN portal_messages m ON m.thread_id = t.id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " GROUP BY t.id ORDER BY t.last_message_at DESC, t.id DESC",
        tuple(args),
    )
    rows = list(cursor.fetchall())
    # The names are the practice's (another database for OpenEMR): read once per patient.
    names = lookups.patient_names(cursor, {row["patient_id"] for row in rows})
    for row in rows:
        name = names.get(row["patient_id"])
        row["first_name"] = name.first_name if name else ""
        row["last_name"] = name.last_name if name else ""
    return rows
