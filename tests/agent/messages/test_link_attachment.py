"""messages.attachment over a real link: the office's file comes back byte for byte."""

from __future__ import annotations

import base64

from agent.messages.rules import ATTACHMENT_MAX_BYTES
from tests.agent.access_fixtures import AccessPractice
from tests.agent.messages.seeding import send_office_message

A = 1
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def attachment_ids(office: AccessPractice) -> list[int]:
    return [int(r["id"]) for r in office.query("SELECT id FROM portal_message_attachments")]


async def test_an_attachment_downloads_with_its_name_type_size_and_exact_bytes(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    send_office_message(office.settings, A, "Your x-ray", "Attached.", [("x-ray.png", PNG)])
    (attachment_id,) = attachment_ids(office)
    answer = await office.call("messages.attachment", session, attachment_id=attachment_id)
    assert {k: v for k, v in answer.items() if k != "data"} == {
        "filename": "x-ray.png",
        "content_type": "image/png",
        "size": len(PNG),
    }
    assert base64.b64decode(answer["data"], validate=True) == PNG


async def test_the_largest_allowed_attachment_fits_in_one_link_answer(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    biggest = b"%PDF-1.7\n" + b"\xa5" * (ATTACHMENT_MAX_BYTES - 9)
    send_office_message(office.settings, A, "Records", "All of them.", [("all.pdf", biggest)])
    (attachment_id,) = attachment_ids(office)
    answer = await office.call("messages.attachment", session, attachment_id=attachment_id)
    assert answer["size"] == ATTACHMENT_MAX_BYTES
    assert base64.b64decode(answer["data"]) == biggest


async def test_several_attachments_keep_the_order_they_were_given_in(
    office: AccessPractice,
) -> None:
    session = await office.signed_in_patient(A)
    files = [(f"page-{n}.txt", f"page {n}".encode()) for n in range(1, 6)]
    thread_id = send_office_message(office.settings, A, "Five pages", "See attached.", files)
    (message,) = (await office.call("messages.thread", session, thread_id=thread_id))["messages"]
    assert [a["filename"] for a in message["attachments"]] == [name for name, _ in files]
    for item, (_, data) in zip(message["attachments"], files, strict=True):
        answer = await office.call("messages.attachment", session, attachment_id=item["id"])
        assert base64.b64decode(answer["data"]) == data
