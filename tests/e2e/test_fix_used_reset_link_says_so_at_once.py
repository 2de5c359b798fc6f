"""Issue 11: "A used reset link still shows the password form and then says 'ask the office';
say at once that the link is used and offer a new one." In Chromium: the emailed link used
once, then opened again, says so before any typing and leads to a new link."""

from __future__ import annotations

from tests.e2e.canary import CANARY_EMAIL, CANARY_PASSWORD
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_content import assert_clean
from tests.e2e.portal_site import PortalSite, emailed_link
from tests.e2e.signed_in import activated_canary
from tests.support.logs import LogCapture

NEW_PASSWORD = "Another-long-passphrase-2231"


async def test_a_used_reset_link_says_so_and_offers_a_new_one(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    await activated_canary(clinic)
    await patient.open(clinic.url("/forgot"), "forgot")
    await patient.fill("Email address or username", CANARY_EMAIL)
    await patient.press(patient.button("Send me a link"), "forgot-sent")
    link = emailed_link(await clinic.office.one_mail(CANARY_EMAIL), "/reset")

    await patient.open(link, "reset")
    await patient.heading_is("Choose a new password")
    await patient.fill("New password", NEW_PASSWORD)
    await patient.fill("Type the same password again", NEW_PASSWORD)
    await patient.press(patient.button("Save my new password"), "reset-done")
    assert patient.page.url == clinic.url("/sign-in?notice=reset")

    response = await patient.open(link, "reset-link-used")
    assert response is not None and response.status == 404
    await patient.heading_is("This link was already used or has expired")
    assert await patient.page.get_by_label("New password").count() == 0
    await patient.press(patient.link("Ask for a new link"), "forgot-again")
    await patient.heading_is("Forgot your password?")

    await patient.open(clinic.url("/sign-in"), "sign-in")
    await patient.sign_in(CANARY_EMAIL, NEW_PASSWORD)
    token = link.split("token=", 1)[1]
    canaries = {"old password": CANARY_PASSWORD, "new password": NEW_PASSWORD, "reset token": token}
    await assert_clean(checks, logs, patient.page, clinic, canaries)
