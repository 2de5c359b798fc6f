"""Flow 2: book with a chosen provider (type -> provider -> day -> time -> confirm), then
with "No preference"; both show on My appointments, in the practice's time zone."""

from __future__ import annotations

import re
from datetime import datetime

from playwright.async_api import expect

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
from tests.support.practice import DR_ADAMS, DR_BAKER, FOLLOW_UP, NEW_PATIENT

# Now is Monday 2026-11-23 07:00 in New York (12:00 UTC); 24 hours' notice makes Tuesday
# 9:00 AM the first free time. New York is UTC-5 in November.
TUESDAY = "Tuesday, November 24, 2026"


async def test_book_with_a_provider_then_with_no_preference(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    await signed_in_canary(clinic, patient)

    first = await patient.book(
        kind="Follow-up", provider="Dr. Adams", day=TUESDAY, time="9:00 AM", label="adams"
    )
    await patient.sees("Dr. Adams")
    await patient.press(patient.link("See my appointments"), "appointments-one")

    # No preference at 11:00: both doctors are free, Dr. Adams already sees this patient that
    # day, so the one with fewer appointments that day gets it (seed 002's tie rule).
    second = await patient.book(
        kind="New patient visit",
        provider="No preference",
        day=TUESDAY,
        time="11:00 AM",
        label="no-preference",
    )
    await patient.sees("Dr. Baker")
    await patient.press(patient.link("See my appointments"), "appointments-both")

    rows = clinic.office.query(
        "SELECT id, provider_id, appointment_type_id, starts_at, status FROM appointments"
        " WHERE patient_id = 1 ORDER BY starts_at"
    )
    assert [(r["provider_id"], r["appointment_type_id"], r["starts_at"]) for r in rows] == [
        (DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 24, 14, 0)),  # stored in UTC
        (DR_BAKER, NEW_PATIENT, datetime(2026, 11, 24, 16, 0)),
    ]
    assert first.endswith(f"/appointments/{rows[0]['id']}/booked")
    assert second.endswith(f"/appointments/{rows[1]['id']}/booked")

    # Shown in New York time (the browser itself is set to Tokyo), soonest first.
    await patient.sees("All times are New York time.")
    cards = patient.page.get_by_role("main").get_by_role("listitem")
    await expect(cards.get_by_role("heading", level=3)).to_have_text(
        [f"{TUESDAY} at 9:00 AM", f"{TUESDAY} at 11:00 AM"]
    )
    await expect(cards.nth(0)).to_contain_text("Follow-up (30 minutes) with Dr. Adams")
    await expect(cards.nth(1)).to_contain_text("New patient visit (60 minutes) with Dr. Baker")
    for card in (cards.nth(0), cards.nth(1)):
        await expect(card.get_by_role("link", name=re.compile("^Reschedule"))).to_be_visible()
        await expect(card.get_by_role("link", name=re.compile("^Cancel"))).to_be_visible()

    cookies = await patient.page.context.cookies(clinic.origin)
    session = next(c["value"] for c in cookies if c["name"] == "__Host-portico")
    leaks = leaks_in_proxy_logs(
        logs,
        {
            "first name": CANARY_FIRST,
            "last name": CANARY_LAST,
            "email": CANARY_EMAIL,
            "password": CANARY_PASSWORD,
            "session token": session,
        },
    )
    report = checks.report(leaks)
    assert not report, report
