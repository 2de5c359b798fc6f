"""Two fixes from the security review, over the real CLI and the real link:

- `portico-agent messages list` shows patients' names and subjects, so the audit trail names
  each patient whose threads were listed (one row each), not one row with no patient;
- `messages.thread` with `mark_read: false` shows a thread and leaves it unread, so a link
  from another site cannot mark a patient's messages read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.agent.access_fixtures import AccessPractice
from tests.agent.messages.cli_office import STAFF, CliOffice
from tests.agent.messages.seeding import send_office_message
from tests.support.practice import NOW

A, B, C = 1, 2, 3


def staff_list_audit(cli: CliOffice) -> list[dict[str, Any]]:
    return cli.query(
        "SELECT patient_id, outcome, detail FROM portal_audit"
        " WHERE actor = %s AND action = 'message.list' ORDER BY patient_id",
        (STAFF,),
    )


# -- messages list: one audit row per patient shown -------------------------------------------


def test_listing_every_thread_audits_each_listed_patient_once(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    send_office_message(cli.settings, A, "Lab results", "In.", now=NOW - timedelta(hours=3))
    send_office_message(cli.settings, A, "Flu shots", "Available.", now=NOW - timedelta(hours=2))
    send_office_message(cli.settings, B, "Your visit", "See you.", now=NOW - timedelta(hours=1))

    assert cli.run("messages", "list") == 0

    assert staff_list_audit(cli) == [
        {"patient_id": A, "outcome": "ok", "detail": "threads:2"},
        {"patient_id": B, "outcome": "ok", "detail": "threads:1"},
    ]


def test_patients_left_out_of_the_listing_are_not_audited(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    a_thread = send_office_message(cli.settings, A, "Lab results", "In.")
    send_office_message(cli.settings, C, "Flu shots", "Available.")
    cli.patient_replies(A, a_thread, "What does it mean?")

    assert cli.run("messages", "list", "--unread") == 0

    assert staff_list_audit(cli) == [
        {"patient_id": A, "outcome": "ok", "detail": "threads:1 unread"},
    ]


def test_listing_one_patient_audits_that_patient(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    send_office_message(cli.settings, A, "Lab results", "In.")
    send_office_message(cli.settings, B, "Flu shots", "Available.")

    assert cli.run("messages", "list", "--patient", str(B)) == 0

    assert staff_list_audit(cli) == [{"patient_id": B, "outcome": "ok", "detail": "threads:1"}]


def test_an_empty_listing_still_leaves_one_row_saying_it_happened(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run("messages", "list") == 0

    assert staff_list_audit(cli) == [{"patient_id": None, "outcome": "ok", "detail": "threads:0"}]


# -- messages.thread mark_read ------------------------------------------------------------------


async def test_opening_with_mark_read_false_leaves_the_messages_unread(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "Your results are in.")

    answer = await office.call("messages.thread", session, thread_id=thread_id, mark_read=False)

    assert [m["body"] for m in answer["messages"]] == ["Your results are in."]
    assert await office.call("messages.unread_count", session) == {"unread": 1}
    (listed,) = (await office.call("messages.list", session))["threads"]
    assert listed["unread"] == 1
    assert office.query("SELECT read_by_patient_at FROM portal_messages") == [
        {"read_by_patient_at": None}
    ]


async def test_opening_with_mark_read_false_is_still_an_audited_read(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")

    await office.call("messages.thread", session, thread_id=thread_id, mark_read=False)

    assert office.query(
        "SELECT patient_id, outcome, detail FROM portal_audit WHERE action = 'message.read'"
    ) == [{"patient_id": A, "outcome": "ok", "detail": f"thread:{thread_id}"}]


async def test_mark_read_true_marks_the_thread_read(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")

    await office.call("messages.thread", session, thread_id=thread_id, mark_read=True)

    assert await office.call("messages.unread_count", session) == {"unread": 0}


@pytest.mark.parametrize("value", ["false", 0, 1, None, "no"])
async def test_mark_read_must_be_a_json_boolean(office: AccessPractice, value: Any) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")

    error = await office.refused_raw(
        "messages.thread", {"thread_id": thread_id, "mark_read": value}, session
    )

    assert error.code == "invalid_params"
    assert error.message.startswith("mark_read: ")
    assert await office.call("messages.unread_count", session) == {"unread": 1}
