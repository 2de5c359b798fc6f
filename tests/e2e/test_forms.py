"""A form in the browser: the patient opens the form the office assigned, answers a question of
every type, sends it with a required answer missing and is told which one (in the summary at
the top, whose link leads to the question, and next to the question itself), saves a draft
and finds it kept, corrects the answer and sends the form, which then shows as sent. The
free-text answers carry canary strings that must never reach the proxy's logs."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.async_api import Locator, expect

from tests.agent.forms.seeding import CHECKUP, assign_form
from tests.e2e.canary import CANARY_EMAIL, CANARY_PASSWORD
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_content import CANARY_PATIENT, assert_clean
from tests.e2e.portal_site import PortalSite, Tenant
from tests.e2e.signed_in import activated_canary
from tests.support.logs import LogCapture

TITLE = "Check-up questions"  # CHECKUP's title
NICKNAME = "Canarynick Zd5"
NOTES = ("Canaryanswer Vb2 Qe9: my knee hurts on the stairs.", "It started in October.")
MISSING = "This question needs an answer"  # agent/forms/answers.py NEEDS_ANSWER
SMOKER = "Do you smoke? (required)"
# What the agent keeps once the form is sent (CHECKUP's field names).
SENT = {
    "nickname": NICKNAME,
    "born": "1970-01-01",
    "smoker": "no",
    "colour": "green",
    "symptoms": ["cough", "fever"],
    "weight": "165.5",
    "notes": "\n".join(NOTES),
}
CANARIES = {"text answer": NICKNAME, "multi-line answer": "Canaryanswer Vb2 Qe9"}


def stored(tenant: Tenant, assignment: int) -> tuple[str, Any]:
    [row] = tenant.office.query(
        "SELECT patient_id, status, answers FROM portal_form_assignments WHERE id = %s",
        (assignment,),
    )
    assert row["patient_id"] == CANARY_PATIENT
    return row["status"], json.loads(row["answers"]) if row["answers"] else None


def question(patient: Patient, label: str) -> Locator:
    """A text or number box, found by its label as read aloud ("... (optional)")."""
    return patient.page.get_by_label(re.compile(f"^{re.escape(label)} \\((required|optional)\\)"))


def date_box(patient: Patient, question: str, part: str) -> Locator:
    """The Month, Day or Year box of a date question: a group named by the question, as the
    activation page asks for a date of birth."""
    group = patient.page.get_by_role("group", name=re.compile(f"^{re.escape(question)} \\("))
    return group.get_by_label(part, exact=True)


BORN = {"Month": "1", "Day": "1", "Year": "1970"}


async def tick(patient: Patient, name: str) -> None:
    box = patient.page.get_by_role("checkbox", name=name, exact=True)
    await (box.tap() if patient.touch else box.check())
    await expect(box).to_be_checked()


async def answer_all_but_smoking(patient: Patient) -> None:
    """Every question but the required "Do you smoke?", as a person fills them in."""
    await question(patient, "What should we call you?").fill(NICKNAME)
    for part, typed in BORN.items():
        await date_box(patient, "Date of birth", part).fill(typed)
    await patient.choose("Green as grass")
    await tick(patient, "cough")
    await tick(patient, "fever")
    await question(patient, "Weight in pounds").fill("165.5")
    notes = question(patient, "Anything else?")
    await (notes.tap() if patient.touch else notes.click())
    await notes.press_sequentially(NOTES[0])
    await notes.press("Enter")
    await notes.press_sequentially(NOTES[1])


async def answers_are_kept(patient: Patient) -> None:
    page = patient.page
    await expect(question(patient, "What should we call you?")).to_have_value(NICKNAME)
    for part, kept in {"Month": "01", "Day": "01", "Year": "1970"}.items():
        await expect(date_box(patient, "Date of birth", part)).to_have_value(kept)
    await expect(page.get_by_role("radio", name="Green as grass")).to_be_checked()
    await expect(page.get_by_role("checkbox", name="cough", exact=True)).to_be_checked()
    await expect(page.get_by_role("checkbox", name="fever", exact=True)).to_be_checked()
    await expect(page.get_by_role("checkbox", name="ache", exact=True)).not_to_be_checked()
    await expect(question(patient, "Weight in pounds")).to_have_value("165.5")
    await expect(question(patient, "Anything else?")).to_have_value("\n".join(NOTES))


async def test_fill_in_a_form_correct_a_missing_answer_save_a_draft_and_send_it(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    page = patient.page
    await activated_canary(clinic)
    assignment = assign_form(clinic.office.settings, CANARY_PATIENT, CHECKUP)
    await patient.open(clinic.url("/"), "sign-in")
    await patient.sign_in(CANARY_EMAIL, CANARY_PASSWORD)

    await patient.press(patient.link("Forms", in_main=False), "forms-to-do")
    await patient.heading_is("Forms")
    await patient.sees(f"{TITLE} Status: To do")
    await patient.press(patient.link(TITLE), "form")
    assert page.url == clinic.url(f"/forms/{assignment}")
    await patient.heading_is(TITLE)
    await answer_all_but_smoking(patient)

    # Sent with "Do you smoke?" unanswered: refused, and the page says where.
    await patient.press(patient.button("Send to the office"), "form-refused")
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("There is a problem")
    problem = summary.get_by_role("link")
    await expect(problem).to_have_count(1)
    await expect(problem).to_have_text(re.compile(re.escape(MISSING)))
    smoking = page.get_by_role("group", name=SMOKER)
    await expect(smoking).to_have_accessible_description(re.compile(re.escape(MISSING)))
    await expect(smoking).to_contain_text(MISSING)
    # The summary's link names the question it is about (read on its own, "This question
    # needs an answer" does not say which) and takes the patient to it.
    problems = []
    named = await problem.inner_text()
    if "Do you smoke?" not in named:
        problems.append(
            f"form-refused: the error summary's link reads {named!r}: it does not name the"
            ' question it is about ("Do you smoke?")'
        )
    await (problem.tap() if patient.touch else problem.click())
    await expect(page.get_by_role("radio", name="Yes", exact=True)).to_be_focused()
    await answers_are_kept(patient)
    assert stored(clinic, assignment) == ("assigned", None)

    # A draft, still without that answer: kept by the office, shown again when reopened.
    await patient.press(patient.button("Save draft"), "draft-saved")
    assert page.url == clinic.url(f"/forms/{assignment}?notice=saved")
    await expect(page.get_by_role("status")).to_contain_text("Your answers are saved.")
    status, draft = stored(clinic, assignment)
    assert status == "draft"
    assert draft["notes"] == "\n".join(NOTES) and draft["smoker"] == ""
    await patient.press(patient.link("Back to all forms"), "forms-draft")
    await patient.sees(f"{TITLE} Status: Draft saved")
    await patient.press(patient.link(TITLE), "draft-reopened")
    await answers_are_kept(patient)
    await expect(page.get_by_role("group", name=SMOKER).get_by_role("radio")).to_have_count(2)
    for radio in await page.get_by_role("group", name=SMOKER).get_by_role("radio").all():
        await expect(radio).not_to_be_checked()

    # Corrected and sent: the list shows it sent, the form shows the answers, read only.
    await patient.choose("No")
    await patient.press(patient.button("Send to the office"), "forms-sent")
    assert page.url == clinic.url("/forms?notice=sent")
    await expect(page.get_by_role("status")).to_have_text("Thank you - your form was sent.")
    await patient.sees(f"{TITLE} Status: Sent on Monday, November 23, 2026")
    assert stored(clinic, assignment) == ("submitted", SENT)
    await patient.press(patient.link(TITLE), "form-sent")
    await patient.sees("You sent this form to the office. These are your answers.")
    await expect(page.get_by_role("term")).to_have_text(
        [
            "What should we call you?",
            "Date of birth",
            "Do you smoke?",
            "Favourite colour",
            "Any of these?",
            "Weight in pounds",
            "Anything else?",
        ]
    )
    await expect(page.get_by_role("definition")).to_have_text(
        [
            NICKNAME,
            "January 1, 1970",
            "No",
            "Green as grass",
            "cough, fever",
            "165.5",
            " ".join(NOTES),  # compared with white space collapsed
        ]
    )
    await expect(page.get_by_role("button", name="Send to the office")).to_have_count(0)

    await assert_clean(checks, logs, page, clinic, CANARIES, problems)
