"""Secure messages in the browser: the header counts what the patient has not read, opening a
conversation lowers the count, a reply typed into the box lands in the conversation and in
the practice's database, and an attachment downloads as the office sent it. The bodies carry
canary strings that must never reach the proxy's logs."""

from __future__ import annotations

import base64
import re

from playwright.async_api import Locator, Page, expect

from tests.e2e.canary import CANARY_EMAIL, CANARY_PASSWORD
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_content import (
    CANARY_PATIENT,
    assert_clean,
    download_headers_checked,
    messages_link,
    office_message,
)
from tests.e2e.portal_site import PortalSite
from tests.e2e.signed_in import activated_canary
from tests.support.logs import LogCapture

RESULTS_SUBJECT = "Your blood test results"
RESULTS_BODY = "Your results are back.\nCanarybody Mq4 Fj8: cholesterol slightly high."
REMINDER_SUBJECT = "Flu shots are here"
REMINDER_BODY = "Canarynote Lp6 Gh1: walk-in flu shots every weekday morning."
NOTES_FILE = "visit-notes.txt"
NOTES = b"Canaryattach Rb5 Tn2: bring your inhaler to the next visit.\n"
# Typed by the patient, with a line break (Enter) in the middle.
REPLY_LINES = ("Thank you, Canaryreply Wt8 Ks3.", "Should I book a follow-up?")

CANARIES = {
    "office message body": "Canarybody Mq4 Fj8",
    "second office message body": "Canarynote Lp6 Gh1",
    "patient reply": "Canaryreply Wt8 Ks3",
}
ATTACHMENT_CANARIES = {
    "office message body": "Canarybody Mq4 Fj8",
    "attachment content": "Canaryattach Rb5 Tn2",
    # The link carries attachments base64-encoded.
    "attachment content, base64": base64.b64encode(NOTES).decode("ascii"),
}


async def signed_in_with_messages(site: PortalSite, patient: Patient) -> int:
    """Two office messages for the canary patient, the first with NOTES_FILE attached; the
    patient signed in. The first thread's id."""
    clinic = site.clinic
    await activated_canary(clinic)
    results = office_message(clinic, RESULTS_SUBJECT, RESULTS_BODY, [(NOTES_FILE, NOTES)])
    office_message(clinic, REMINDER_SUBJECT, REMINDER_BODY)
    await patient.open(clinic.url("/"), "sign-in")
    await patient.sign_in(CANARY_EMAIL, CANARY_PASSWORD)
    return results


def conversation(page: Page) -> Locator:
    """The messages of the conversation shown: list items headed by who wrote them, when."""
    main = page.get_by_role("main")
    return main.get_by_role("listitem").filter(has=page.get_by_role("heading", level=2))


async def test_unread_count_drops_as_threads_are_opened_and_a_typed_reply_is_sent(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    page = patient.page
    results = await signed_in_with_messages(site, patient)

    # Two conversations the patient has not opened: the header says so on every page.
    await expect(messages_link(page)).to_have_text("Messages (2 unread)")
    await patient.press(messages_link(page), "messages-two-unread")
    await patient.heading_is("Messages")
    await expect(page.get_by_role("main").get_by_role("listitem")).to_have_count(2)
    for subject in (RESULTS_SUBJECT, REMINDER_SUBJECT):
        await expect(patient.link(f"New {subject}")).to_be_visible()

    # Opening one marks it read: the count drops to the other one.
    await patient.press(patient.link(f"New {RESULTS_SUBJECT}"), "thread-opened")
    assert page.url == clinic.url(f"/messages/{results}")
    await patient.heading_is(RESULTS_SUBJECT)
    await expect(messages_link(page)).to_have_text("Messages (1 unread)")
    said = conversation(page)
    await expect(said).to_have_count(1)
    await expect(said.first).to_contain_text("Example Family Clinic")
    await expect(said.first).to_contain_text(RESULTS_BODY)
    assert RESULTS_BODY in await said.first.inner_text()  # shown with its line break

    # A reply typed key by key, Enter for the line break.
    box = page.get_by_label("Your message", exact=True)
    await (box.tap() if patient.touch else box.click())
    await box.press_sequentially(REPLY_LINES[0])
    await box.press("Enter")
    await box.press_sequentially(REPLY_LINES[1])
    await patient.press(patient.button("Send reply"), "reply-sent")
    assert page.url == clinic.url(f"/messages/{results}?notice=sent")
    await expect(page.get_by_role("status")).to_have_text("Your reply was sent.")
    await expect(said).to_have_count(2)
    await expect(said.last.get_by_role("heading", level=2)).to_contain_text("You")
    await expect(said.last).to_contain_text(" ".join(REPLY_LINES))
    assert "\n".join(REPLY_LINES) in await said.last.inner_text()
    await expect(page.get_by_label("Your message", exact=True)).to_have_value("")

    [reply] = clinic.office.query(
        "SELECT thread_id, patient_id, sender, body FROM portal_messages WHERE sender = 'patient'"
    )
    assert reply == {
        "thread_id": results,
        "patient_id": CANARY_PATIENT,
        "sender": "patient",
        "body": "\n".join(REPLY_LINES),
    }

    # The inbox: the answered conversation is read, the other one still new.
    await patient.press(patient.link("Back to all messages"), "messages-one-unread")
    await expect(messages_link(page)).to_have_text("Messages (1 unread)")
    await expect(patient.link(RESULTS_SUBJECT)).to_be_visible()
    await patient.press(patient.link(f"New {REMINDER_SUBJECT}"), "second-thread-opened")
    await patient.sees(REMINDER_BODY)
    await expect(messages_link(page)).to_have_text("Messages")

    await assert_clean(checks, logs, page, clinic, CANARIES)


async def test_an_attachment_downloads_as_the_office_sent_it(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    page = patient.page
    results = await signed_in_with_messages(site, patient)
    await patient.open(clinic.url(f"/messages/{results}"), "thread")
    await patient.sees(f"Download {NOTES_FILE} (60 bytes)")

    async with page.expect_download() as downloading:
        link = patient.link(re.compile(f"^Download {re.escape(NOTES_FILE)}"))
        await (link.tap() if patient.touch else link.click())
    download = await downloading.value
    assert download.suggested_filename == NOTES_FILE
    saved = await download.path()
    assert saved.read_bytes() == NOTES

    [attachment] = clinic.office.query("SELECT id FROM portal_message_attachments")
    path = f"/messages/attachments/{attachment['id']}"
    again = await download_headers_checked(page, checks, site, clinic, path)
    assert again.headers["content-type"].startswith("text/plain")
    assert await again.body() == NOTES

    await assert_clean(checks, logs, page, clinic, ATTACHMENT_CANARIES)
