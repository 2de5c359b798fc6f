"""The demo's welcome message: one thread from the office, so the portal's Messages page has
something to open. Written by `portico-agent seed-demo` through the same code path as
`portico-agent messages send` (without the notice email: the demo login is handed out on the
command line, not mailed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymysql.cursors

from agent.messages.office import OfficeMessage, write_office_message
from agent.messages.rules import AUTHOR_MAX
from agent.store.portico.lookups import PorticoLookups

WELCOME_SUBJECT = "Welcome to your patient portal"
DEMO_ACTOR = "system:seed-demo"


def welcome_body(practice_name: str) -> str:
    return (
        f"Welcome to the {practice_name} patient portal!\n"
        "\n"
        "Here you can book and change appointments, fill in forms before your visit, see "
        "your health records and send us a message. Reply to this message to try it: we "
        "answer within two working days.\n"
        "\n"
        "For anything urgent, please call the office. In an emergency, call 911."
    )


def seed_demo_messages(
    connection: Any, *, now: datetime, patient_id: int, practice_name: str
) -> int:
    """Write the welcome thread for the demo patient; returns its thread id."""
    message = OfficeMessage(
        patient_id=patient_id,
        subject=WELCOME_SUBJECT,
        body=welcome_body(practice_name),
        author=practice_name[:AUTHOR_MAX],
    )
    connection.begin()
    try:
        with connection.cursor(pymysql.cursors.DictCursor) as cursor:
            # The demo is Portico's own schema (practice.system portico).
            sent = write_office_message(
                cursor, message, actor=DEMO_ACTOR, now=now, notice=None, lookups=PorticoLookups()
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return sent.thread_id
