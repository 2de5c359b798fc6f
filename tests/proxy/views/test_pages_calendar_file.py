""" "Add to calendar" on the appointments page: an .ics of the patient's own upcoming
appointment; someone else's and a missing one get the same "not found" page; the download is
audited as a read and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from icalendar import Calendar

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal
from tests.support.practice import DR_ADAMS, FOLLOW_UP


async def test_add_to_calendar_downloads_the_patients_own_appointment(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        mine = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        theirs = site.add_appointment(
            2, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 26, 15, 0, tzinfo=UTC), 30
        )
        browser = await site.signed_in(1)
        page = await browser.get("/appointments")
        (link,) = page.links(rf"/appointments/{mine}/calendar\.ics$")
        # The link says what it is for, and for which appointment, to a screen reader too.
        assert "Add to calendar the appointment on Wednesday, November 25, 2026" in (
            page.visible_text
        )

        download = await browser.get(link)
        assert download.status == 200
        assert download.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert download.headers["Content-Disposition"] == (
            'attachment; filename="appointment-2026-11-25.ics"'
        )
        (event,) = Calendar.from_ical(download.text).events
        assert str(event["UID"]) == f"{mine}@example-clinic.portico"
        assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 11, 25, 10, 0)
        assert event["DTSTART"].params["TZID"] == "America/New_York"

        other = await browser.get(f"/appointments/{theirs}/calendar.ics")
        missing = await browser.get(f"/appointments/{mine + theirs + 1000}/calendar.ics")
        assert other.status == missing.status == 404
        assert other.visible_text == missing.visible_text
        assert "We could not find that appointment." in other.visible_text

        audit = site.query(
            "SELECT patient_id, outcome FROM portal_audit"
            " WHERE action = 'appointments.calendar_file' ORDER BY id"
        )
        assert [(row["patient_id"], row["outcome"]) for row in audit] == [
            (1, "ok"),
            (1, "not_found"),
            (1, "not_found"),
        ]
        assert site.query("SELECT COUNT(*) AS n FROM portal_outbox")[0]["n"] == 0
