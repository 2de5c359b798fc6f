"""Security review of issue 11: "Check that the existing canary tests cover the new pages
(new-message form with canary text and attachment name; registration; reset link page)".

Registration had no browser test at all, so nothing looked for what a sign-up types (names,
birth date, zip, email, password) or its emailed token in the proxy's logs. In Chromium: a
person signs up with canary details, opens the emailed link, confirms, and signs in; then the
proxy's logs hold none of it.
"""

from __future__ import annotations

from dataclasses import replace

from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_content import assert_clean
from tests.e2e.portal_site import PortalSite, emailed_link
from tests.support.logs import LogCapture

FIRST = "Regfirst Kq8"
LAST = "Reglast Wy3"
EMAIL = "regcanary.kq8wy3@example.org"
PASSWORD = "Kq8-lantern-meadow-5529"
BIRTH = ("7", "23", "1981")
ZIP = "04217"  # not a canary: five digits can turn up in any number a log line holds


async def test_a_sign_up_leaves_nothing_in_the_proxy_logs(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    access = clinic.office.agent.access
    access.rules = replace(access.rules, self_registration=True)  # as a reload would

    await patient.open(clinic.url("/register"), "register")
    await patient.heading_is("Create an account")
    await patient.fill("First name", FIRST)
    await patient.fill("Last name", LAST)
    for box, value in zip(("Month", "Day", "Year"), BIRTH, strict=True):
        await patient.fill(box, value)
    await patient.fill("Home zip code", ZIP)
    await patient.fill("Email address", EMAIL)
    await patient.fill("Choose a password", PASSWORD)
    await patient.fill("Type the same password again", PASSWORD)
    await patient.press(patient.button("Create my account"), "register-sent")
    await patient.sees("Check your email")

    link = emailed_link(await clinic.office.one_mail(EMAIL), "/verify")
    await patient.open(link, "verify")
    await patient.press(patient.button("Confirm my email address"), "verified")
    await patient.sign_in(EMAIL, PASSWORD)
    await patient.heading_is("My appointments")

    canaries = {
        "sign-up first name": FIRST,
        "sign-up last name": LAST,
        "sign-up email": EMAIL,
        "sign-up password": PASSWORD,
        "sign-up birth date": "1981-07-23",
        "verification token": link.split("token=", 1)[1],
    }
    await assert_clean(checks, logs, patient.page, clinic, canaries)
