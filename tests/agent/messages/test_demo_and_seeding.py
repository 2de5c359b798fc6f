"""The demo's welcome thread, and the tests' seeding helper, write what `messages send` writes."""

from __future__ import annotations

from typing import Any

import pytest

from agent.db.migrate import connect
from agent.db.pool import DatabaseSettings
from agent.demo.messages import WELCOME_SUBJECT, seed_demo_messages
from agent.messages.rules import MessageRefused
from tests.agent.messages.cli_office import CliOffice
from tests.agent.messages.seeding import send_office_message
from tests.support.database import query
from tests.support.practice import NOW

A, B = 1, 2
PDF = b"%PDF-1.4\n% results\n"


def rows_of(cli: CliOffice, patient: int) -> list[Any]:
    """Everything stored for the patient's messages, less ids, times and who ran it."""
    threads = cli.query(
        "SELECT subject, replies_allowed, last_sender FROM portal_message_threads"
        " WHERE patient_id = %s",
        (patient,),
    )
    messages = cli.query(
        "SELECT sender, author, body, read_by_patient_at, read_by_staff_at FROM portal_messages"
        " WHERE patient_id = %s",
        (patient,),
    )
    attachments = cli.query(
        "SELECT a.position, a.filename, a.content_type, a.size, a.data"
        " FROM portal_message_attachments a JOIN portal_messages m ON m.id = a.message_id"
        " WHERE m.patient_id = %s",
        (patient,),
    )
    audit = cli.query(
        "SELECT action, outcome, detail REGEXP '^thread:[0-9]+ message:[0-9]+ attachments:1$'"
        " AS detail_shape FROM portal_audit WHERE patient_id = %s",
        (patient,),
    )
    return [threads, messages, attachments, audit]


def test_the_seeding_helper_stores_exactly_what_the_cli_stores(cli: CliOffice) -> None:
    body = cli.file("body.txt", "Your results are attached.")
    pdf = cli.file("results.pdf", PDF)
    assert cli.run("messages", "send", str(A), "--subject", "Lab results", "--body-file", body,
                   "--attach", pdf) == 0  # fmt: skip
    send_office_message(
        cli.settings, B, "Lab results", "Your results are attached.", [("results.pdf", PDF)]
    )
    assert rows_of(cli, A) == rows_of(cli, B)
    assert rows_of(cli, A)[1] != []


def test_the_seeding_helper_refuses_what_the_cli_refuses(practice_db: DatabaseSettings) -> None:
    with pytest.raises(MessageRefused, match="only pdf"):
        send_office_message(practice_db, A, "Hi", "Body", [("virus.exe", b"MZ")])
    with pytest.raises(MessageRefused, match="there is no patient"):
        send_office_message(practice_db, 999, "Hi", "Body")


def test_the_demo_welcome_thread_is_an_unread_office_message(
    practice_db: DatabaseSettings,
) -> None:
    connection = connect(practice_db)  # the connection `portico-agent seed-demo` uses
    with connection:
        thread_id = seed_demo_messages(
            connection, now=NOW, patient_id=A, practice_name="Example Family Clinic"
        )
    assert query(
        practice_db, "SELECT id, patient_id, subject, replies_allowed FROM portal_message_threads"
    ) == [{"id": thread_id, "patient_id": A, "subject": WELCOME_SUBJECT, "replies_allowed": 1}]
    (message,) = query(
        practice_db, "SELECT sender, author, body, sent_at, read_by_patient_at FROM portal_messages"
    )
    assert message["sender"] == "office"
    assert message["author"] == "Example Family Clinic"
    assert message["body"].startswith("Welcome to the Example Family Clinic patient portal!")
    assert (message["sent_at"], message["read_by_patient_at"]) == (NOW.replace(tzinfo=None), None)
    assert query(practice_db, "SELECT COUNT(*) AS n FROM portal_outbox") == [{"n": 0}]
