"""Issue 11: "Patients cannot start a conversation (only reply), though the welcome message
invites them to "send us a message". Let them write to the office (subject, text, optional
attachment within limits), with the office's rules (which topics, on/off) in the YAML."

In Chromium, on a phone and a desktop: from the inbox's "New message" button, a mistake shown
next to its field, then the message sent with a file chosen in the file picker; it lands in
the conversation and in the practice's database. Every page is axe-checked and the proxy logs
none of what was written.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.e2e.canary import CANARY_EMAIL, CANARY_PASSWORD
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_content import CANARY_PATIENT, assert_clean
from tests.e2e.portal_site import PortalSite
from tests.e2e.signed_in import activated_canary
from tests.support.logs import LogCapture

SUBJECT = "Refill Canarysubj Qv3 Hx7"
BODY = "Canarystart Zp4 Lw9: I am almost out of my blood pressure tablets."
FILE_NAME = "pharmacy-note-Canaryname-Jt5.txt"  # a file's name can be PHI too
FILE = b"Canaryfile Mb2 Kc6: pharmacy phone 555 0199\n"
CANARIES = {
    "subject": "Canarysubj Qv3 Hx7",
    "body": "Canarystart Zp4 Lw9",
    "file": "Canaryfile",
    "file name": "Canaryname-Jt5",
}


async def test_a_patient_starts_a_conversation_with_a_file(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture, tmp_path: Path
) -> None:
    clinic = site.clinic
    page = patient.page
    await activated_canary(clinic)
    await patient.open(clinic.url("/"), "sign-in")
    await patient.sign_in(CANARY_EMAIL, CANARY_PASSWORD)
    await patient.open(clinic.url("/messages"), "inbox")
    await patient.press(patient.link("New message"), "new-message")
    await patient.heading_is("New message to Example Family Clinic")

    # Sent without a topic: the mistake is next to the question, and in the summary.
    await patient.fill("Subject", SUBJECT)
    await patient.fill("Your message", BODY)
    await patient.press(patient.button("Send message"), "new-message-mistake")
    await expect(page.get_by_role("alert")).to_contain_text("Choose what your message is about.")
    topics = page.get_by_role("group", name="What is your message about?")
    await expect(topics).to_contain_text("Choose what your message is about.")
    await expect(page.get_by_label("Subject", exact=True)).to_have_value(SUBJECT)
    await expect(page.get_by_label("Your message", exact=True)).to_have_value(BODY)

    await patient.choose("Prescriptions")
    chosen = tmp_path / FILE_NAME
    chosen.write_bytes(FILE)
    await page.get_by_label("Attach a file (optional)").set_input_files(chosen)
    await patient.press(patient.button("Send message"), "message-sent")

    [thread] = clinic.office.query(
        "SELECT id, patient_id, subject, topic FROM portal_message_threads"
    )
    assert thread == {
        "id": thread["id"],
        "patient_id": CANARY_PATIENT,
        "subject": SUBJECT,
        "topic": "Prescriptions",
    }
    assert page.url == clinic.url(f"/messages/{thread['id']}?notice=started")
    await expect(page.get_by_role("status")).to_contain_text("Your message was sent.")
    await patient.heading_is(SUBJECT)
    await patient.sees("Topic: Prescriptions")
    await patient.sees(BODY)
    await patient.sees(f"Download {FILE_NAME}")
    [stored] = clinic.office.query("SELECT filename, data FROM portal_message_attachments")
    assert stored == {"filename": FILE_NAME, "data": FILE}

    await patient.press(patient.link("Back to all messages"), "inbox-with-thread")
    await patient.sees(SUBJECT)
    await patient.sees("Last message from you")

    await assert_clean(checks, logs, page, clinic, CANARIES)
