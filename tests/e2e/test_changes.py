"""Flow 3: reschedule one appointment, cancel the other; once the office's clock is inside
the cancel cutoff of the one left, the pages no longer offer to change it and say why; after
signing out, My appointments sends the browser to the sign-in page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.agent.access_fixtures import AccessPractice
from tests.e2e.canary import (
    CANARY_EMAIL,
    CANARY_FIRST,
    CANARY_LAST,
    CANARY_PASSWORD,
    leaks_in_proxy_logs,
)
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_site import PortalSite
from tests.e2e.signed_in import signed_in_canary
from tests.support.logs import LogCapture
from tests.support.practice import DR_ADAMS, DR_BAKER, FOLLOW_UP

# Now is Monday 2026-11-23 07:00 in New York (12:00 UTC); New York is UTC-5 in November.
WEDNESDAY_9 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
THURSDAY_10 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
TUESDAY = "Tuesday, November 24, 2026"
TUESDAY_2PM = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
CUTOFF_HOURS = 24  # tests/agent/access_fixtures.config_dict's booking.cancel_cutoff_hours
TOO_CLOSE = "Too close to the appointment to change online \u2014 please call +1 555 0100."


def office_booking(office: AccessPractice, provider: int, start: datetime) -> int:
    """A 30-minute follow-up for patient 1, as the practice system writes it."""
    office.execute(
        "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
        " ends_at, status, source) VALUES (1, %s, %s, %s, %s, 'booked', 'office')",
        (
            provider,
            FOLLOW_UP,
            start.replace(tzinfo=None),
            (start + timedelta(minutes=30)).replace(tzinfo=None),
        ),
    )
    return int(office.query("SELECT MAX(id) AS id FROM appointments")[0]["id"])


async def test_reschedule_cancel_then_too_close_to_change_then_sign_out(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    office = clinic.office
    office_booking(office, DR_ADAMS, WEDNESDAY_9)
    cancelled = office_booking(office, DR_BAKER, THURSDAY_10)
    await signed_in_canary(clinic, patient)
    page = patient.page
    cookies = await page.context.cookies(clinic.origin)
    first_session = next(c for c in cookies if c["name"] == "__Host-portico")

    # Reschedule Wednesday 9:00 AM to Tuesday 2:00 PM.
    await patient.press(
        patient.link(re.compile("^Reschedule the appointment on Wednesday, November 25")),
        "move-1-provider",
    )
    await patient.heading_is("Move your appointment")
    await patient.sees("Step 1 of 4")
    await patient.sees("Wednesday, November 25, 2026 at 9:00 AM")
    await patient.choose("Dr. Adams")
    await patient.press(patient.button("Next"), "move-2-day")
    await patient.press(patient.link(re.compile(f"^{TUESDAY} ")), "move-3-time")
    await patient.choose("2:00 PM")
    await patient.press(patient.button("Next"), "move-4-confirm")
    await patient.sees("Wednesday, November 25, 2026 at 9:00 AM")
    await patient.sees(f"{TUESDAY} at 2:00 PM")
    await patient.press(patient.button("Move my appointment"), "move-5-moved")
    await patient.heading_is("Your appointment is moved")
    await patient.sees(f"{TUESDAY} at 2:00 PM")
    await patient.press(patient.link("See my appointments"), "appointments-after-move")

    # Cancel Thursday 10:00 AM.
    await patient.press(
        patient.link(re.compile("^Cancel the appointment on Thursday, November 26")),
        "cancel-1-confirm",
    )
    await patient.heading_is("Cancel this appointment?")
    await patient.sees("Thursday, November 26, 2026 at 10:00 AM")
    await patient.press(patient.button("Yes, cancel this appointment"), "cancel-2-done")
    await expect(page.get_by_role("status")).to_have_text("Your appointment is cancelled.")
    cards = page.get_by_role("main").get_by_role("listitem")
    await expect(cards).to_have_count(1)
    await expect(cards.get_by_role("heading")).to_have_text(f"{TUESDAY} at 2:00 PM")

    booked = office.query(
        "SELECT id, provider_id, starts_at FROM appointments"
        " WHERE patient_id = 1 AND status = 'booked'"
    )
    assert [(r["provider_id"], r["starts_at"]) for r in booked] == [
        (DR_ADAMS, TUESDAY_2PM.replace(tzinfo=None))
    ]
    remaining = int(booked[0]["id"])
    [row] = office.query("SELECT status FROM appointments WHERE id = %s", (cancelled,))
    assert row["status"] == "cancelled"

    # Half an hour inside the cutoff. The session has been idle for hours by then, so the
    # patient signs in again first.
    office.clock.set(TUESDAY_2PM - timedelta(hours=CUTOFF_HOURS, minutes=-30))
    await patient.open(clinic.url("/appointments"), "after-clock-signed-out")
    assert page.url == clinic.url("/sign-in?notice=expired")
    await patient.sign_in(
        CANARY_EMAIL, CANARY_PASSWORD, notice="You were signed out. Please sign in again."
    )
    card = page.get_by_role("main").get_by_role("listitem")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text(TOO_CLOSE)
    # No Reschedule, no Cancel: only the calendar file, which changes nothing.
    await expect(card.get_by_role("link")).to_have_count(1)
    await expect(card.get_by_role("link")).to_have_accessible_name(
        re.compile(r"^Add to calendar the appointment on ")
    )

    # Going to the change pages directly does not offer the change either.
    response = await patient.open(
        clinic.url(f"/appointments/{remaining}/reschedule"), "too-close-reschedule"
    )
    assert response is not None and response.status == 409
    await patient.heading_is("Please call the office")
    await patient.sees(TOO_CLOSE)
    await patient.open(clinic.url(f"/appointments/{remaining}/cancel"), "too-close-cancel")
    await patient.sees(TOO_CLOSE)
    await expect(page.get_by_role("button", name=re.compile("cancel", re.I))).to_have_count(0)

    cookies = await page.context.cookies(clinic.origin)
    second_session = next(c for c in cookies if c["name"] == "__Host-portico")

    # Sign out: My appointments now sends the browser to sign in.
    await patient.press(page.get_by_role("button", name="Sign out"), "signed-out")
    await expect(page.get_by_role("status")).to_have_text("You have signed out.")
    names = [c["name"] for c in await page.context.cookies(clinic.origin)]
    assert "__Host-portico" not in names
    await patient.open(clinic.url("/appointments"), "appointments-signed-out")
    assert page.url == clinic.url("/sign-in?notice=required")
    await expect(page.get_by_role("status")).to_have_text("Please sign in first.")
    # The agent ended the session too: the old cookie, put back, gets nowhere.
    await page.context.add_cookies([second_session])
    await patient.open(clinic.url("/appointments"), "old-cookie-after-sign-out")
    assert page.url == clinic.url("/sign-in?notice=expired")

    leaks = leaks_in_proxy_logs(
        logs,
        {
            "first name": CANARY_FIRST,
            "last name": CANARY_LAST,
            "email": CANARY_EMAIL,
            "password": CANARY_PASSWORD,
            "first session token": first_session["value"],
            "second session token": second_session["value"],
        },
    )
    report = checks.report(leaks)
    assert not report, report
