"""Flow 1: staff invite a patient; the patient opens the emailed link in the browser, proves
who they are (date of birth, zip), chooses a password, and signs in with it."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.canary import (
    CANARY_EMAIL,
    CANARY_FIRST,
    CANARY_LAST,
    CANARY_PASSWORD,
    leaks_in_proxy_logs,
    plant_canary,
)
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_site import PortalSite, emailed_link
from tests.support.logs import LogCapture


async def fill_activation(
    patient: Patient, *, zip_code: str, password: str = CANARY_PASSWORD, again: str = ""
) -> None:
    """Date of birth (as on file: 1970-01-01), zip, and the new password twice."""
    await patient.fill("Month", "1")
    await patient.fill("Day", "1")
    await patient.fill("Year", "1970")
    await patient.fill("Home zip code", zip_code)
    await patient.fill("Choose a password", password)
    await patient.fill("Type the same password again", again or password)


async def test_activate_from_the_emailed_link_then_sign_in(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    plant_canary(clinic.office)
    await clinic.office.staff.invite(1)
    [mail] = await clinic.office.deliver()
    assert mail.rcpt_tos == [CANARY_EMAIL]
    link = emailed_link(mail, "/activate")
    assert link.startswith(clinic.url("/activate?token="))
    token = link.split("token=", 1)[1]

    response = await patient.open(link, "activate")
    assert response is not None and response.status == 200
    await patient.heading_is("Set up your account")

    # Two slips a person makes: the passwords differ, then a wrong zip code.
    await fill_activation(patient, zip_code="10001", again="Zq9-orchid-pavement-4472")
    await patient.press(patient.button("Set up my account"), "activate-passwords-differ")
    await expect(patient.page.get_by_role("alert")).to_contain_text("There is a problem")
    await expect(patient.page.get_by_label("Type the same password again")).to_have_attribute(
        "aria-invalid", "true"
    )
    await fill_activation(patient, zip_code="10002")
    await patient.press(patient.button("Set up my account"), "activate-wrong-zip")
    await expect(patient.page.get_by_role("alert")).to_contain_text(
        "The date of birth or zip code does not match the office's records."
    )
    assert clinic.office.query("SELECT id FROM portal_accounts WHERE status = 'active'") == []

    await fill_activation(patient, zip_code="10001")
    await patient.press(patient.button("Set up my account"), "sign-in-after-activation")

    assert patient.page.url == clinic.url("/sign-in?notice=activated")
    await expect(patient.page.get_by_role("status")).to_have_text(
        "Your account is ready. Sign in with your email or username and new password."
    )
    # A mistyped password first: refused, without saying which part was wrong.
    await patient.fill("Email address or username", CANARY_EMAIL)
    await patient.fill("Password", CANARY_PASSWORD + "x")
    await patient.press(patient.button("Sign in"), "sign-in-wrong-password")
    await expect(patient.page.get_by_role("alert")).to_contain_text(
        "The sign-in details are not right"
    )
    await patient.sign_in(CANARY_EMAIL, CANARY_PASSWORD)
    assert patient.page.url == clinic.url("/appointments")
    await patient.sees("You have no upcoming appointments.")
    [account] = clinic.office.query(
        "SELECT status, access_enabled FROM portal_accounts WHERE patient_id = 1"
    )
    assert account == {"status": "active", "access_enabled": 1}

    # The canary data did pass through the proxy (the sign-in form sent the email and the
    # password; the account page shows the name, and the email masked).
    await patient.press(patient.link("Account", in_main=False), "account")
    await patient.heading_is("My account")
    await patient.sees(CANARY_FIRST)
    await patient.sees("c***@example.org")

    # The emailed link is single use: opened again, it can no longer set a password.
    await patient.open(link, "activate-again")
    await fill_activation(patient, zip_code="10001", password="Another-long-passphrase-2231")
    await patient.press(patient.button("Set up my account"), "activate-link-used")
    await patient.heading_is("This link does not work")

    cookies = await patient.page.context.cookies(clinic.origin)
    session = next(c["value"] for c in cookies if c["name"] == "__Host-portico")
    await expect(patient.page.get_by_role("button", name="Sign out")).to_be_visible()

    leaks = leaks_in_proxy_logs(
        logs,
        {
            "first name": CANARY_FIRST,
            "last name": CANARY_LAST,
            "email": CANARY_EMAIL,
            "password": CANARY_PASSWORD,
            "session token": session,
            "activation token": token,
        },
    )
    report = checks.report(leaks)
    assert not report, report
