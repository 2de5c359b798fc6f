"""The appointments page: a signed-in patient sees their own appointments in the practice's
local time, with Cancel / Reschedule only where the office's rules allow it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import Portal, portal
from tests.support.database import execute
from tests.support.practice import DR_ADAMS, DR_BAKER, FOLLOW_UP, NEW_PATIENT


async def test_signed_in_patient_sees_appointments_in_local_time(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        # Now is Monday 2026-11-23 07:00 in New York (12:00 UTC).
        later = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        soon = site.add_appointment(
            1, DR_BAKER, NEW_PATIENT, datetime(2026, 11, 23, 20, 0, tzinfo=UTC), 60
        )
        site.add_appointment(1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 20, 14, 30, tzinfo=UTC), 30)
        someone_else = site.add_appointment(
            2, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 26, 15, 0, tzinfo=UTC), 30
        )

        browser = await site.signed_in(1)
        page = browser.history[-1]

        text = page.visible_text
        assert "Wednesday, November 25, 2026 at 10:00 AM" in text
        assert "Monday, November 23, 2026 at 3:00 PM" in text
        assert "Friday, November 20, 2026 at 9:30 AM" in text
        assert "Follow-up (30 minutes) with Dr. Adams" in text
        assert "All times are New York time." in text
        assert page.links(rf"/appointments/{later}/cancel$")
        assert page.links(rf"/appointments/{later}/reschedule\?type={FOLLOW_UP}$")
        # Too soon to change: no Cancel or Reschedule (it can still go into a calendar).
        assert page.links(rf"/appointments/{soon}/") == [f"/appointments/{soon}/calendar.ics"]
        assert (
            "Too close to the appointment to change online \u2014 please call +1 555 0100" in text
        )
        assert "Thursday, November 26" not in text
        assert not page.links(rf"/appointments/{someone_else}/")


async def test_cancel_asks_first_then_cancels(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        appointment = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        browser = await site.signed_in(1)

        page = await browser.get(f"/appointments/{appointment}/cancel")
        assert "Cancel this appointment?" in page.visible_text
        assert "Wednesday, November 25, 2026 at 10:00 AM" in page.visible_text
        assert _status(site, appointment) == "booked"  # the GET changed nothing

        done = await browser.submit(page, f"/appointments/{appointment}/cancel")

        assert done.url == "/appointments?notice=cancelled"
        assert "Your appointment is cancelled." in done.visible_text
        assert _status(site, appointment) == "cancelled"
        assert not done.links(rf"/appointments/{appointment}/")


async def test_cancel_too_close_is_refused_with_the_phone_number(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        soon = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 23, 20, 0, tzinfo=UTC), 30
        )
        # 24 hours and 15 minutes away: still changeable now, not in 20 minutes.
        later = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 24, 12, 15, tzinfo=UTC), 30
        )
        browser = await site.signed_in(1)
        page = await browser.get(f"/appointments/{soon}/cancel")
        assert "Too close to the appointment to change online" in page.visible_text
        assert not [f for f in page.forms() if f.action.endswith("/cancel")]

        # A form kept from earlier, sent after the cutoff passed: the agent refuses it.
        form = await browser.get(f"/appointments/{later}/cancel")
        site.office.advance(minutes=20)
        refused = await browser.submit(form, f"/appointments/{later}/cancel")
        assert refused.status == 409
        assert (
            "Too close to the appointment to change online \u2014 please call +1 555 0100"
            in refused.visible_text
        )
        assert _status(site, later) == "booked"


async def test_another_patients_appointment_is_not_found(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        theirs = site.add_appointment(
            2, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        browser = await site.signed_in(1)
        for url in (f"/appointments/{theirs}/cancel", f"/appointments/{theirs}/reschedule"):
            page = await browser.get(url)
            assert page.status == 404
            assert "Wednesday" not in page.visible_text and "Dr. Adams" not in page.visible_text
        page = await browser.get("/appointments/1/cancel")  # the cancel form of patient 1
        csrf = page.form("/sign-out").fields["csrf"]
        refused = await browser.post(f"/appointments/{theirs}/cancel", {"csrf": csrf})
        assert refused.status == 404
        assert _status(site, theirs) == "booked"


async def test_reschedule_moves_the_appointment(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        old = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        browser = await site.signed_in(1)
        page = await browser.get(f"/appointments/{old}/reschedule")
        assert "Move your appointment" in page.visible_text
        assert "Step 1 of 4" in page.visible_text
        assert "Wednesday, November 25, 2026 at 10:00 AM" in page.visible_text
        page = await browser.submit(page, f"/appointments/{old}/reschedule", provider="any")
        (day,) = [link for link in page.links(r"day=2026-11-24")]
        page = await browser.get(day)
        confirm = await browser.submit(
            page, f"/appointments/{old}/reschedule/confirm", start="2026-11-24T15:30:00Z"
        )
        assert "Moving from Wednesday, November 25, 2026 at 10:00 AM" in confirm.visible_text
        assert "New time Tuesday, November 24, 2026 at 10:30 AM" in confirm.visible_text

        moved = await browser.submit(confirm, f"/appointments/{old}/reschedule/confirm")

        assert "Your appointment is moved" in moved.visible_text
        assert "Tuesday, November 24, 2026 at 10:30 AM" in moved.visible_text
        rows = site.query(
            "SELECT id, status, starts_at FROM appointments WHERE patient_id = 1 ORDER BY id"
        )
        assert [(r["id"], r["status"]) for r in rows] == [(old, "cancelled"), (old + 1, "booked")]
        assert rows[1]["starts_at"] == datetime(2026, 11, 24, 15, 30)


def _status(site: Portal, appointment: int) -> str:
    (row,) = site.query("SELECT status FROM appointments WHERE id = %s", (appointment,))
    return str(row["status"])


async def test_an_office_only_visit_cannot_be_moved_online(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        execute(
            site.office.settings, "UPDATE appointment_types SET online_bookable = 0 WHERE id = 2"
        )
        visit = site.add_appointment(
            1, DR_BAKER, NEW_PATIENT, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 60
        )
        browser = await site.signed_in(1)
        page = await browser.get(f"/appointments/{visit}/reschedule?provider=2")
        assert page.status == 409
        assert "This appointment cannot be moved online. Please call +1 555 0100." in (
            page.visible_text
        )
