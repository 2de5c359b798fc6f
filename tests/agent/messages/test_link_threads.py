"""messages.unread_count, messages.list and messages.thread over a real link: what a signed-in
patient sees of the office's messages, and how opening a thread marks them read."""

from __future__ import annotations

from datetime import timedelta

from tests.agent.access_fixtures import AccessPractice
from tests.agent.messages.seeding import send_office_message
from tests.support.practice import NOW

PDF = b"%PDF-1.4\n% lab results\n"
A, B = 1, 2


async def test_a_patient_without_messages_sees_an_empty_list_and_no_unread(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    assert await office.call("messages.list", session) == {
        "threads": [],
        "unread": 0,
        "can_start": True,
    }
    assert await office.call("messages.unread_count", session) == {"unread": 0}


async def test_unread_counts_every_office_message_not_yet_opened(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    first = send_office_message(office.settings, A, "Lab results", "Your results are in.")
    send_office_message(office.settings, A, "", "And one more thing.", thread_id=first)
    send_office_message(office.settings, A, "Flu shots", "Flu shots are available.")
    send_office_message(office.settings, B, "Not yours", "For patient B.")
    assert await office.call("messages.unread_count", session) == {"unread": 3}


async def test_list_is_newest_first_with_counts_and_the_practice_s_local_time(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    older = send_office_message(
        office.settings, A, "Lab results", "In.", now=NOW - timedelta(hours=3)
    )
    newer = send_office_message(
        office.settings, A, "Flu shots", "Available.", now=NOW - timedelta(hours=2)
    )
    send_office_message(
        office.settings, A, "", "Second.", thread_id=older, now=NOW - timedelta(hours=1)
    )
    answer = await office.call("messages.list", session)
    assert answer == {
        "threads": [
            {
                "id": older,
                "subject": "Lab results",
                "topic": None,
                "last_at": "2026-11-23T11:00:00Z",
                "local_last": "2026-11-23T06:00:00-05:00",
                "unread": 2,
                "messages": 2,
                "last_from": "office",
            },
            {
                "id": newer,
                "subject": "Flu shots",
                "topic": None,
                "last_at": "2026-11-23T10:00:00Z",
                "local_last": "2026-11-23T05:00:00-05:00",
                "unread": 1,
                "messages": 1,
                "last_from": "office",
            },
        ],
        "unread": 3,
        "can_start": True,
    }


async def test_thread_shows_its_messages_oldest_first_with_attachment_descriptions(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    body = "  <script>alert(1)</script>\nLine two & 'three' 👋  "
    thread_id = send_office_message(
        office.settings,
        A,
        "Lab results",
        body,
        [("results.pdf", PDF)],
        author="Dr. Adams",
        now=NOW - timedelta(hours=1),
    )
    send_office_message(office.settings, A, "", "Call us with questions.", thread_id=thread_id)
    answer = await office.call("messages.thread", session, thread_id=thread_id)
    (attachment_id,) = [
        row["id"] for row in office.query("SELECT id FROM portal_message_attachments")
    ]
    first, second = answer["messages"]
    assert answer["id"] == thread_id
    assert answer["subject"] == "Lab results"
    assert answer["can_reply"] is True
    assert first == {
        "id": first["id"],
        "from": "office",
        "author": "Dr. Adams",
        "sent_at": "2026-11-23T11:00:00Z",
        "local_sent": "2026-11-23T06:00:00-05:00",
        # As typed (edges trimmed): escaping is the page's job, not the store's.
        "body": "<script>alert(1)</script>\nLine two & 'three' 👋",
        "attachments": [
            {
                "id": attachment_id,
                "filename": "results.pdf",
                "content_type": "application/pdf",
                "size": len(PDF),
            }
        ],
    }
    assert second["body"] == "Call us with questions."
    assert second["author"] == "Example Family Clinic"
    assert second["attachments"] == []
    assert first["id"] < second["id"]


async def test_opening_a_thread_marks_its_office_messages_read_and_no_others(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    opened = send_office_message(office.settings, A, "Lab results", "In.")
    other = send_office_message(office.settings, A, "Flu shots", "Available.")
    await office.call("messages.thread", session, thread_id=opened)

    assert await office.call("messages.unread_count", session) == {"unread": 1}
    listed = {
        t["id"]: t["unread"] for t in (await office.call("messages.list", session))["threads"]
    }
    assert listed == {opened: 0, other: 1}
    read_at = office.query(
        "SELECT thread_id, read_by_patient_at FROM portal_messages ORDER BY thread_id"
    )
    assert [(r["thread_id"], r["read_by_patient_at"]) for r in read_at] == [
        (opened, NOW.replace(tzinfo=None)),
        (other, None),
    ]


async def test_a_thread_answer_carries_the_unread_count_after_opening_it(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    opened = send_office_message(office.settings, A, "Lab results", "In.")
    send_office_message(office.settings, A, "", "And more.", thread_id=opened)
    send_office_message(office.settings, A, "Flu shots", "Available.")
    # Three unread before; opening the first thread reads two of them.
    assert (await office.call("messages.thread", session, thread_id=opened))["patient_unread"] == 1
    # Opened from another site's link nothing is marked read: the new thread's message
    # stays unread, beside the one left from before.
    other = send_office_message(office.settings, A, "Parking", "New lot.")
    unread = await office.call("messages.thread", session, thread_id=other, mark_read=False)
    assert unread["patient_unread"] == 2


async def test_listing_does_not_mark_anything_read(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    send_office_message(office.settings, A, "Lab results", "In.")
    await office.call("messages.list", session)
    assert await office.call("messages.unread_count", session) == {"unread": 1}


async def test_an_announcement_says_it_cannot_be_replied_to(office: AccessPractice) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(
        office.settings, A, "Closed on Friday", "Holiday.", replies_allowed=False
    )
    answer = await office.call("messages.thread", session, thread_id=thread_id)
    assert answer["can_reply"] is False
