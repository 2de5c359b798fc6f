"""messages.reply over a real link: the patient answers in the same thread, once per
idempotency key, within the body rules."""

from __future__ import annotations

import asyncio

from tests.agent.access_fixtures import AccessPractice
from tests.agent.messages.seeding import send_office_message
from tests.support.practice import NOW

A = 1


def patient_messages(office: AccessPractice) -> list[dict[str, object]]:
    return office.query(
        "SELECT thread_id, patient_id, sender, author, actor, body, sent_at"
        " FROM portal_messages WHERE sender = 'patient' ORDER BY id"
    )


async def test_reply_is_stored_in_the_thread_as_typed_and_shown_after_the_office_s(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "Your results are in.")
    typed = "\n  Thanks! <b>Is 5.2</b> high?\r\nNguyễn 👍  \n"
    answer = await office.call("messages.reply", session, thread_id=thread_id, body=typed)

    assert answer == {"thread_id": thread_id, "message_id": answer["message_id"]}
    assert patient_messages(office) == [
        {
            "thread_id": thread_id,
            "patient_id": A,
            "sender": "patient",
            "author": "Pat1 Example",
            "actor": "patient:1",
            "body": "Thanks! <b>Is 5.2</b> high?\r\nNguyễn 👍",
            "sent_at": NOW.replace(tzinfo=None),
        }
    ]
    shown = await office.call("messages.thread", session, thread_id=thread_id)
    assert [(m["from"], m["id"]) for m in shown["messages"]][-1] == (
        "patient",
        answer["message_id"],
    )


async def test_reply_moves_the_thread_to_the_top_of_the_list(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    older = send_office_message(office.settings, A, "Lab results", "In.")
    newer = send_office_message(office.settings, A, "Flu shots", "Available.")
    office.advance(minutes=5)
    await office.call("messages.reply", session, thread_id=older, body="Thanks")
    threads = (await office.call("messages.list", session))["threads"]
    assert [(t["id"], t["last_from"], t["messages"]) for t in threads] == [
        (older, "patient", 2),
        (newer, "office", 1),
    ]
    assert threads[0]["last_at"] == "2026-11-23T12:05:00Z"


async def test_a_repeated_idempotency_key_returns_the_first_reply_and_stores_one(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")
    params = {"thread_id": thread_id, "body": "Thank you"}
    first = await office.call_raw("messages.reply", params, session, key="reply-1")
    again = await office.call_raw("messages.reply", params, session, key="reply-1")
    assert again == first
    assert len(patient_messages(office)) == 1


async def test_concurrent_repeats_of_one_key_store_one_reply(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")
    params = {"thread_id": thread_id, "body": "Thank you"}
    answers = await asyncio.gather(
        *(office.call_raw("messages.reply", params, session, key="double-click") for _ in range(6))
    )
    assert len({a["message_id"] for a in answers}) == 1
    assert len(patient_messages(office)) == 1


async def test_the_same_key_with_another_body_is_invalid_params(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")
    await office.call_raw(
        "messages.reply", {"thread_id": thread_id, "body": "One"}, session, key="k"
    )
    error = await office.refused_raw(
        "messages.reply", {"thread_id": thread_id, "body": "Two"}, session, key="k"
    )
    assert (error.code, error.message) == (
        "invalid_params",
        "idempotency_key: this key was already used for a different request",
    )
    assert [m["body"] for m in patient_messages(office)] == ["One"]


async def test_an_idempotency_key_over_128_characters_is_invalid_params(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")
    error = await office.refused_raw(
        "messages.reply", {"thread_id": thread_id, "body": "Hi"}, session, key="k" * 129
    )
    assert (error.code, error.message) == (
        "invalid_params",
        "idempotency_key: at most 128 characters",
    )
    assert patient_messages(office) == []


async def test_blank_or_too_long_bodies_are_refused_and_nothing_is_stored(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")
    blank = await office.refused("messages.reply", session, thread_id=thread_id, body=" \n\t ")
    assert (blank.code, blank.message) == ("invalid_params", "body: please write a message")
    long = await office.refused("messages.reply", session, thread_id=thread_id, body="x" * 5001)
    assert (long.code, long.message) == (
        "invalid_params",
        "body: at most 5,000 characters (this one has 5,001)",
    )
    assert patient_messages(office) == []


async def test_a_body_of_5000_characters_plus_surrounding_space_is_accepted(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Lab results", "In.")
    await office.call(
        "messages.reply", session, thread_id=thread_id, body="\n" + "ü" * 5000 + "   "
    )
    assert [len(str(m["body"])) for m in patient_messages(office)] == [5000]


async def test_an_announcement_refuses_replies(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(
        office.settings, A, "Closed Friday", "Holiday.", replies_allowed=False
    )
    error = await office.refused("messages.reply", session, thread_id=thread_id, body="Ok")
    assert error.code == "forbidden"
    assert "does not take replies" in error.message
    assert patient_messages(office) == []
