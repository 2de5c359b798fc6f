"""Patient A, signed in, goes after patient B's messages with every messages method.

A session acts only on its own patient (docs/protocol.md section 12): B's thread and
attachment ids and ids that do not exist get the identical not_found answer, ill-typed ids
and unknown keys are invalid_params naming the field without echoing the value, and nothing A
sends reads or changes a row of B's.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.agent.access_fixtures import AccessPractice, as_json
from tests.agent.messages.seeding import send_office_message

A, B = 1, 2
PDF = b"%PDF-1.4\n% B's private scan\n"
MARKER = "'; DROP TABLE portal_messages; --"
BAD_IDS: list[Any] = [
    -1,
    0,
    2**31,
    2**63,
    2**64,
    -(2**63),
    "1",
    MARKER,
    [1],
    {"id": 1},
    1.0,
    1.5,
    True,
    None,
]
ID_OF = {
    "messages.thread": "thread_id",
    "messages.reply": "thread_id",
    "messages.attachment": "attachment_id",
}


def b_rows(office: AccessPractice) -> list[list[dict[str, Any]]]:
    return [
        office.query("SELECT * FROM portal_message_threads WHERE patient_id = %s", (B,)),
        office.query("SELECT * FROM portal_messages WHERE patient_id = %s ORDER BY id", (B,)),
        office.query("SELECT id, message_id, size FROM portal_message_attachments ORDER BY id"),
    ]


async def b_has_a_thread(office: AccessPractice) -> tuple[int, int]:
    thread_id = send_office_message(
        office.settings, B, "B's biopsy", "B's private result.", [("scan.pdf", PDF)]
    )
    (attachment,) = office.query("SELECT id FROM portal_message_attachments")
    return thread_id, int(attachment["id"])


def params_for(method: str, value: Any) -> dict[str, Any]:
    params = {ID_OF[method]: value}
    if method == "messages.reply":
        params["body"] = "hello"
    return params


@pytest.mark.parametrize("method", sorted(ID_OF))
async def test_b_s_ids_and_missing_ids_get_the_identical_not_found(
    office: AccessPractice, method: str
) -> None:
    b_thread, b_attachment = await b_has_a_thread(office)
    session = await office.signed_in_patient(A)
    before = b_rows(office)
    b_id = b_attachment if method == "messages.attachment" else b_thread
    theirs = await office.refused_raw(method, params_for(method, b_id), session)
    missing = await office.refused_raw(method, params_for(method, 999_999), session)

    assert theirs.code == "not_found"
    assert (theirs.code, theirs.message, theirs.retryable, theirs.details) == (
        missing.code,
        missing.message,
        missing.retryable,
        missing.details,
    )
    assert "B's" not in theirs.message and "scan" not in theirs.message
    assert b_rows(office) == before  # not marked read, no reply added


async def test_a_s_list_and_count_hold_nothing_of_b_s(office: AccessPractice) -> None:
    await b_has_a_thread(office)
    session = await office.signed_in_patient(A)
    listing = await office.call("messages.list", session)
    assert (listing["threads"], listing["unread"]) == ([], 0)
    assert await office.call("messages.unread_count", session) == {"unread": 0}


@pytest.mark.parametrize("method", sorted(ID_OF))
async def test_ill_typed_or_out_of_range_ids_are_invalid_params_without_the_value(
    office: AccessPractice, method: str
) -> None:
    session = await office.signed_in_patient(A)
    for value in BAD_IDS:
        error = await office.refused_raw(method, params_for(method, value), session)
        assert error.code == "invalid_params", value
        assert error.message.startswith(f"{ID_OF[method]}: "), value
        assert MARKER not in error.message and "DROP" not in error.message


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("messages.list", {"patient_id": B}, "patient_id: unknown parameter"),
        ("messages.unread_count", {"patient_id": B}, "patient_id: unknown parameter"),
        ("messages.thread", {"thread_id": 1, "patient_id": B}, "patient_id: unknown parameter"),
        ("messages.thread", {}, "thread_id: required"),
        ("messages.reply", {"thread_id": 1}, "body: required"),
        ("messages.reply", {"thread_id": 1, "body": 5}, "body: Input should be a valid string"),
        ("messages.reply", {"thread_id": 1, "body": ["hi"]}, "body: "),
        ("messages.reply", {"thread_id": 1, "body": "x" * 50_001}, "body: "),
        ("messages.attachment", {"attachment_id": 1, "raw": True}, "raw: unknown parameter"),
    ],
)
async def test_unknown_keys_and_wrong_types_are_named(
    office: AccessPractice, method: str, params: dict[str, Any], expected: str
) -> None:
    session = await office.signed_in_patient(A)
    error = await office.refused_raw(method, params, session)
    assert error.code == "invalid_params"
    assert expected in error.message
    assert "x" * 100 not in error.message


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("messages.unread_count", {}),
        ("messages.list", {}),
        ("messages.thread", {"thread_id": 1}),
        ("messages.reply", {"thread_id": 1, "body": "hi"}),
        ("messages.attachment", {"attachment_id": 1}),
        ("messages.start_options", {}),
        ("messages.start", {"topic": "Other", "subject": "Hi", "body": "hi"}),
    ],
)
async def test_every_method_needs_a_live_session(
    office: AccessPractice, method: str, params: dict[str, Any]
) -> None:
    await b_has_a_thread(office)  # thread 1 and attachment 1 exist, and are B's
    before = b_rows(office)
    for session in (None, "", "not-a-session", "x" * 129):
        error = await office.refused_raw(method, params, session)
        assert error.code == "unauthenticated", session
    assert b_rows(office) == before


async def test_a_signed_out_session_reads_nothing(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")
    await office.call("access.sign_out", session)
    error = await office.refused("messages.thread", session, thread_id=thread_id)
    assert error.code == "unauthenticated"
    assert as_json(error.message).count("Lab") == 0
