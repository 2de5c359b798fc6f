"""Every messages method that reads or writes a message leaves exactly one audit row, with
ids and codes only; the unread count (asked on every page) leaves none."""

from __future__ import annotations

from typing import Any

from tests.agent.access_fixtures import CLIENT_IP, AccessPractice
from tests.agent.messages.seeding import send_office_message

A, B = 1, 2
SECRET_SUBJECT = "Biopsy result"
SECRET_BODY = "The biopsy shows nothing to worry about."
SECRET_FILE = "biopsy-report.pdf"


def message_audit(office: AccessPractice) -> list[dict[str, Any]]:
    return office.query(
        "SELECT actor, patient_id, action, outcome, client_ip, detail FROM portal_audit"
        " WHERE action LIKE 'message.%%' AND actor LIKE 'patient:%%' ORDER BY id"
    )


def row(action: str, outcome: str, detail: str, patient: int = A) -> dict[str, Any]:
    return {
        "actor": f"patient:{patient}",
        "patient_id": patient,
        "action": action,
        "outcome": outcome,
        "client_ip": CLIENT_IP,
        "detail": detail,
    }


async def planted(office: AccessPractice) -> tuple[str, int, int]:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(
        office.settings, A, SECRET_SUBJECT, SECRET_BODY, [(SECRET_FILE, b"%PDF-1.4\n")]
    )
    (attachment,) = office.query("SELECT id, message_id FROM portal_message_attachments")
    return session, thread_id, int(attachment["id"])


async def test_each_read_and_write_writes_one_row_of_ids(office: AccessPractice) -> None:
    session, thread_id, attachment_id = await planted(office)
    await office.call("messages.unread_count", session)
    await office.call("messages.list", session)
    await office.call("messages.thread", session, thread_id=thread_id)
    reply = await office.call("messages.reply", session, thread_id=thread_id, body="Thanks")
    await office.call("messages.attachment", session, attachment_id=attachment_id)
    (message,) = office.query(
        "SELECT message_id FROM portal_message_attachments WHERE id = %s", (attachment_id,)
    )
    assert message_audit(office) == [
        row("message.list", "ok", "threads:1"),
        row("message.read", "ok", f"thread:{thread_id}"),
        row("message.reply", "ok", f"thread:{thread_id} message:{reply['message_id']}"),
        row(
            "message.attachment",
            "ok",
            f"attachment:{attachment_id} message:{message['message_id']}",
        ),
    ]


async def test_refused_reads_and_replies_are_audited_as_not_found(
    office: AccessPractice,
) -> None:
    b_thread = send_office_message(office.settings, B, "For B", "Private.")
    session = await office.signed_in_patient(A)
    await office.refused("messages.thread", session, thread_id=b_thread)
    await office.refused("messages.reply", session, thread_id=424242, body="Hi")
    await office.refused("messages.attachment", session, attachment_id=99)
    assert message_audit(office) == [
        row("message.read", "not_found", f"thread:{b_thread}"),
        row("message.reply", "not_found", "thread:424242"),
        row("message.attachment", "not_found", "attachment:99"),
    ]


async def test_a_refused_reply_to_an_announcement_is_audited_as_forbidden(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    thread_id = send_office_message(office.settings, A, "Closed", "Friday.", replies_allowed=False)
    await office.refused("messages.reply", session, thread_id=thread_id, body="Why?")
    assert message_audit(office) == [row("message.reply", "forbidden", f"thread:{thread_id}")]


async def test_no_audit_row_holds_a_subject_body_or_file_name(office: AccessPractice) -> None:
    session, thread_id, attachment_id = await planted(office)
    await office.call("messages.thread", session, thread_id=thread_id)
    await office.call("messages.reply", session, thread_id=thread_id, body="My reply text")
    await office.call("messages.attachment", session, attachment_id=attachment_id)
    every_row = repr(office.query("SELECT * FROM portal_audit"))
    for secret in (SECRET_SUBJECT, SECRET_BODY, SECRET_FILE, "My reply text", "Pat1"):
        assert secret not in every_row


async def test_the_office_s_send_is_audited_with_the_staff_actor(office: AccessPractice) -> None:
    thread_id = send_office_message(office.settings, A, "Hello", "Hi.", [("a.txt", b"a")])
    (message,) = office.query("SELECT id FROM portal_messages")
    assert office.query("SELECT actor, patient_id, action, outcome, detail FROM portal_audit") == [
        {
            "actor": "staff:test",
            "patient_id": A,
            "action": "message.send",
            "outcome": "ok",
            # No active account yet: no notice.
            "detail": f"thread:{thread_id} message:{message['id']} attachments:1",
        }
    ]
