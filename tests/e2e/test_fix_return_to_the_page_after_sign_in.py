"""Issue 11: "After sign-in the patient lands on Appointments, not where she was going (the
embedded Book button, a new-message email link). Return to the requested page (same-site
paths only)." And: "`/sign-in` with a live session shows the signed-in menu; redirect to
Appointments instead." In Chromium, with every page checked (axe, headers, phone layout)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.canary import CANARY_EMAIL, CANARY_PASSWORD
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_content import assert_clean
from tests.e2e.portal_site import PortalSite
from tests.e2e.signed_in import activated_canary
from tests.support.logs import LogCapture


async def test_the_offices_book_button_leads_to_booking_after_signing_in(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    page = patient.page
    await activated_canary(clinic)

    # The office website's button is a plain link to /book (agent/embed.py).
    await patient.open(clinic.url("/book"), "book-button-signed-out")
    assert page.url == clinic.url("/sign-in?notice=required&next=%2Fbook")
    await patient.heading_is("Sign in to your patient portal")
    await expect(page.get_by_role("status")).to_have_text("Please sign in first.")
    await patient.fill("Email address or username", CANARY_EMAIL)
    await patient.fill("Password", CANARY_PASSWORD)
    await patient.press(patient.button("Sign in"), "booking-after-sign-in")

    assert page.url == clinic.url("/book")
    await patient.heading_is("Book an appointment")
    await patient.sees("Step 1 of 5")

    # The sign-in page, opened again while signed in: on to the appointments.
    await patient.open(clinic.url("/sign-in"), "sign-in-while-signed-in")
    assert page.url == clinic.url("/appointments")
    await patient.heading_is("My appointments")

    # An attacker's link to sign in and then go elsewhere: the patient stays on this site.
    await patient.press(page.get_by_role("button", name="Sign out"), "signed-out")
    await patient.open(clinic.url("/sign-in?next=//evil.example/"), "sign-in-attackers-next")
    await patient.sign_in(CANARY_EMAIL, CANARY_PASSWORD)
    assert page.url == clinic.url("/appointments")

    await assert_clean(checks, logs, page, clinic, {})
