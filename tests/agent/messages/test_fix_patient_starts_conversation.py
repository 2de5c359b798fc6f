"""Issue 11: "Patients cannot start a conversation (only reply), though the welcome message
invites them to "send us a message". Let them write to the office (subject, text, optional
attachment within limits), with the office's rules (which topics, on/off) in the YAML."

The agent's half, over a real link and the real staff CLI: `messages.start` stores the thread,
its message and its file in one audited transaction, under the reply path's rules and
idempotency; the office's topics and on/off switch come from agent.yaml; staff see the thread
and its topic; another patient's session cannot reach it.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agent.config import AgentConfig, Messages
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import AccessPractice, access_practice
from tests.agent.messages.cli_office import STAFF, CliOffice
from tests.support.practice import agent_config_data

A, B = 1, 2
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OFFICE_TOPICS = ["Appointments", "Prescriptions", "Billing", "Other"]


def started(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "topic": "Prescriptions",
        "subject": "Refill for lisinopril",
        "body": "  I am running low.\nCould you send a refill?  ",
    }
    params.update(changes)
    return params


def upload(name: str, data: bytes) -> dict[str, str]:
    return {"filename": name, "data": base64.b64encode(data).decode("ascii")}


def threads(office: AccessPractice) -> list[dict[str, Any]]:
    return office.query(
        "SELECT id, patient_id, subject, topic, replies_allowed, created_by, last_sender"
        " FROM portal_message_threads ORDER BY id"
    )


async def test_a_patient_starts_a_conversation_with_a_topic_and_a_file(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    answer = await office.call_raw(
        "messages.start", started(attachment=upload("rash.png", PNG)), session, key="start-1"
    )
    thread_id, message_id = answer["thread_id"], answer["message_id"]

    assert threads(office) == [
        {
            "id": thread_id,
            "patient_id": A,
            "subject": "Refill for lisinopril",
            "topic": "Prescriptions",
            "replies_allowed": 1,
            "created_by": "patient:1",
            "last_sender": "patient",
        }
    ]
    shown = await office.call("messages.thread", session, thread_id=thread_id)
    assert shown["topic"] == "Prescriptions" and shown["can_reply"] is True
    (message,) = shown["messages"]
    assert (message["id"], message["from"], message["author"]) == (
        message_id,
        "patient",
        "Pat1 Example",
    )
    assert message["body"] == "I am running low.\nCould you send a refill?"
    (file,) = message["attachments"]
    assert (file["filename"], file["content_type"], file["size"]) == (
        "rash.png",
        "image/png",
        len(PNG),
    )
    got = await office.call("messages.attachment", session, attachment_id=file["id"])
    assert base64.b64decode(got["data"]) == PNG

    listing = await office.call("messages.list", session)
    assert listing["can_start"] is True
    assert [(t["id"], t["last_from"], t["topic"]) for t in listing["threads"]] == [
        (thread_id, "patient", "Prescriptions")
    ]
    # The write and its audit row went together; the row holds ids, never the text.
    (row,) = office.query(
        "SELECT actor, patient_id, outcome, detail FROM portal_audit WHERE action = 'message.start'"
    )
    assert row == {
        "actor": "patient:1",
        "patient_id": A,
        "outcome": "ok",
        "detail": f"thread:{thread_id} message:{message_id} attachments:1",
    }


async def test_the_office_lists_its_topics_and_a_topic_not_listed_is_refused(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    options = await office.call("messages.start_options", session)
    assert options == {"can_start": True, "topics": OFFICE_TOPICS}

    error = await office.refused_raw("messages.start", started(topic="Lottery"), session)
    assert (error.code, error.message) == (
        "invalid_params",
        "topic: choose one of the topics offered: Appointments, Prescriptions, Billing, Other",
    )
    assert threads(office) == []


async def test_every_bad_field_is_named_at_once_and_nothing_is_stored(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    error = await office.refused_raw(
        "messages.start",
        started(subject="  ", body="x" * 5001, attachment=upload("scan.pdf", PNG)),
        session,
    )
    assert error.code == "invalid_params"
    assert error.message == (
        "subject: please give the message a subject; "
        "body: at most 5,000 characters (this one has 5,001); "
        "attachment: scan.pdf: the file's content is not application/pdf, as its name says"
    )
    assert threads(office) == []


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("notes.exe", b"MZ...", "notes.exe: only pdf, png, jpg, jpeg or txt files can be attached"),
        ("empty.txt", b"", "empty.txt: the file is empty"),
        (
            "big.pdf",
            b"%PDF-" + b"0" * (3 * 1024 * 1024),
            "the file is 3.0 MiB; an attachment may be at most 3 MiB",
        ),
    ],
)
async def test_the_file_follows_the_offices_attachment_rules(
    office: AccessPractice, name: str, data: bytes, problem: str
) -> None:
    session = await office.signed_in_patient(A)
    error = await office.refused_raw(
        "messages.start", started(attachment=upload(name, data)), session
    )
    assert (error.code, error.message) == ("invalid_params", f"attachment: {problem}")
    assert threads(office) == []


async def test_a_repeated_idempotency_key_starts_one_conversation(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    first = await office.call_raw("messages.start", started(), session, key="double-click")
    again = await office.call_raw("messages.start", started(), session, key="double-click")
    assert again == first
    assert len(threads(office)) == 1
    other = await office.refused_raw(
        "messages.start", started(body="Something else"), session, key="double-click"
    )
    assert other.code == "invalid_params"


async def test_ten_conversations_a_day_then_limit_reached_until_a_day_has_passed(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    for number in range(10):
        last = await office.call_raw(
            "messages.start", started(subject=f"Question {number}"), session, key=f"k{number}"
        )
    # A repeat of the tenth still gets its answer.
    again = await office.call_raw(
        "messages.start", started(subject="Question 9"), session, key="k9"
    )
    assert again == last
    error = await office.refused("messages.start", session, **started(subject="Eleventh"))
    assert error.code == "limit_reached"
    assert "10 conversations in the last 24 hours" in error.message
    assert len(threads(office)) == 10
    (row,) = office.query(
        "SELECT outcome, detail FROM portal_audit WHERE action = 'message.start'"
        " AND outcome <> 'ok'"
    )
    assert row == {"outcome": "limit_reached", "detail": "per_day:10"}

    office.advance(hours=24)
    session = await office.sign_in("pat1@example.org")
    await office.call("messages.start", session, **started(subject="Next day"))
    assert len(threads(office)) == 11


async def test_off_in_the_yaml_the_agent_refuses_and_says_so(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db, link_keys, messages={"patients_can_start": False}
    ) as office:
        session = await office.signed_in_patient(A)
        assert (await office.call("messages.list", session))["can_start"] is False
        assert (await office.call("messages.start_options", session))["can_start"] is False
        error = await office.refused_raw("messages.start", started(), session)
        assert error.code == "forbidden"
        assert error.message == (
            "This office does not take new messages through the portal. "
            "Please call the office instead."
        )
        assert threads(office) == []
        (row,) = office.query("SELECT outcome FROM portal_audit WHERE action = 'message.start'")
        assert row["outcome"] == "forbidden"


async def test_the_thread_is_only_its_patients_and_others_get_the_same_not_found(
    office: AccessPractice,
) -> None:
    a_session = await office.signed_in_patient(A)
    answer = await office.call(
        "messages.start", a_session, **started(attachment=upload("rash.png", PNG))
    )
    (file,) = office.query("SELECT id FROM portal_message_attachments")
    b_session = await office.signed_in_patient(B)

    assert (await office.call("messages.list", b_session))["threads"] == []
    thread_id = answer["thread_id"]
    for method, params, missing in (
        ("messages.thread", {"thread_id": thread_id}, {"thread_id": 999_999}),
        (
            "messages.reply",
            {"thread_id": thread_id, "body": "hi"},
            {"thread_id": 999_999, "body": "hi"},
        ),
        ("messages.attachment", {"attachment_id": file["id"]}, {"attachment_id": 999_999}),
    ):
        theirs = await office.refused_raw(method, params, b_session)
        gone = await office.refused_raw(method, missing, b_session)
        assert theirs.code == "not_found"
        assert (theirs.code, theirs.message, theirs.details) == (
            gone.code,
            gone.message,
            gone.details,
        )
    assert len(office.query("SELECT id FROM portal_messages")) == 1  # B's reply never landed


def test_staff_see_the_patient_started_thread_with_its_topic(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    thread_id = cli.patient_starts(A, "Billing", "Question about my bill", "Why two charges?")

    assert cli.run("messages", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[-2:] == ["topic", "subject"]
    assert lines[1].split("\t") == [
        str(thread_id),
        str(A),
        "Pat1 Example",
        lines[1].split("\t")[3],
        "patient",
        "1",
        "1",
        "Billing",
        "Question about my bill",
    ]
    assert cli.run("messages", "show", str(thread_id)) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[:3] == [
        f"thread {thread_id}: Question about my bill",
        f"patient {A}: Pat1 Example",
        "started by the patient, topic: Billing",
    ]
    assert "Why two charges?" in shown
    assert cli.query("SELECT actor FROM portal_audit WHERE action = 'message.staff_read'") == [
        {"actor": STAFF}
    ]


@pytest.mark.parametrize(
    ("topics", "problem"),
    [
        ([], "at least 1 item"),
        (["Billing", "billing "], '"billing" is listed twice'),
        (["  "], "a topic must not be blank"),
        (["x" * 61], "at most 60 characters"),
        (["Bills\nand more"], "one line of plain text"),
    ],
)
def test_the_yaml_topics_are_checked(
    practice_db: DatabaseSettings, link_keys: Path, topics: list[str], problem: str
) -> None:
    data = agent_config_data(practice_db, link_keys)
    data["messages"] = {"topics": topics}
    with pytest.raises(ValidationError) as raised:
        AgentConfig.model_validate(data)
    assert problem in str(raised.value)
    assert Messages().topics == tuple(OFFICE_TOPICS)
