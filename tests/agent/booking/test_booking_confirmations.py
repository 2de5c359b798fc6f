"""Booking, moving and cancelling in the portal each mail the patient, through the outbox and
a real SMTP server, with one calendar event that keeps its UID and raises its SEQUENCE, at the
right time on both sides of the US and EU DST changes; the mail and the file say only what
email.appointment_details allows. Every test runs on both practice systems."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from protocol.aio import RemoteError
from tests.agent.booking.calendar_fixtures import (
    CANARY,
    MailingPractice,
    calendar_of,
    mailing_practice,
    plant_canaries,
    the_event,
)
from tests.support.database import query
from tests.support.practice import SmallPractice
from tests.support.smtp import Received, mail_relay

# (zone, "now" (a Monday), the Friday before the change at 10:00 local, the Monday after it
# at 10:00 local, both in UTC, and how each mail writes them).
DST = {
    "us-spring": (
        "America/New_York",
        datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        "2026-03-06T15:00:00Z",
        "2026-03-09T14:00:00Z",
        "Friday, March 6, 2026 at 10:00 AM EST",
        "Monday, March 9, 2026 at 10:00 AM EDT",
    ),
    "us-fall": (
        "America/New_York",
        datetime(2026, 10, 26, 12, 0, tzinfo=UTC),
        "2026-10-30T14:00:00Z",
        "2026-11-02T15:00:00Z",
        "Friday, October 30, 2026 at 10:00 AM EDT",
        "Monday, November 2, 2026 at 10:00 AM EST",
    ),
    "eu-spring": (
        "Europe/Berlin",
        datetime(2026, 3, 23, 8, 0, tzinfo=UTC),
        "2026-03-27T09:00:00Z",
        "2026-03-30T08:00:00Z",
        "Friday, March 27, 2026 at 10:00 AM CET",
        "Monday, March 30, 2026 at 10:00 AM CEST",
    ),
    "eu-fall": (
        "Europe/Berlin",
        datetime(2026, 10, 19, 8, 0, tzinfo=UTC),
        "2026-10-23T08:00:00Z",
        "2026-10-26T09:00:00Z",
        "Friday, October 23, 2026 at 10:00 AM CEST",
        "Monday, October 26, 2026 at 10:00 AM CET",
    ),
}


def _text(message: Received) -> str:
    return message.part("text/plain")


@pytest.mark.parametrize("case", DST)
async def test_book_move_cancel_is_one_calendar_event_at_the_right_time(
    case: str, small_practice: SmallPractice, link_keys: Path
) -> None:
    zone, now, before, after, before_words, after_words = DST[case]
    ids = small_practice
    with mail_relay() as relay:
        async with mailing_practice(ids, link_keys, relay, now=now, timezone=zone) as practice:
            booked = await practice.call(
                "booking.book",
                appointment_type_id=ids.FOLLOW_UP,
                provider_id=ids.DR_ADAMS,
                start=before,
            )
            moved = await practice.call(
                "booking.reschedule",
                appointment_id=booked["id"],
                provider_id=ids.DR_ADAMS,
                start=after,
            )
            mails = await practice.deliver()
        # A restart in between: the sequence is durable, not the agent's memory.
        async with mailing_practice(ids, link_keys, relay, now=now, timezone=zone) as practice:
            await practice.call("booking.cancel", appointment_id=moved["appointment"]["id"])
            mails += await practice.deliver()

    patient_address = ids.email_of(ids.patient(1))
    assert [m.rcpt_tos for m in mails] == [[patient_address]] * 3
    assert [m.message["Subject"] for m in mails] == [
        "Your appointment at Example Family Clinic is booked",
        "Your appointment at Example Family Clinic has a new time",
        "Your appointment at Example Family Clinic is cancelled",
    ]
    assert before_words in _text(mails[0])
    assert after_words in _text(mails[1]) and after_words in _text(mails[2])
    files = [calendar_of(m) for m in mails]
    assert [method for _, method in files] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [calendar["METHOD"] for calendar, _ in files] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [the_event(calendar) for calendar, _ in files]
    assert len({str(event["UID"]) for event in events}) == 1
    assert str(events[0]["UID"]) == f"{booked['id']}@example-clinic.portico"
    assert [event["SEQUENCE"] for event in events] == [0, 1, 2]
    assert [str(event["STATUS"]) for event in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    local = [event.decoded("DTSTART") for event in events]
    assert [(d.month, d.day, d.hour, d.minute) for d in local] == [
        (int(before[5:7]), int(before[8:10]), 10, 0),
        (int(after[5:7]), int(after[8:10]), 10, 0),
        (int(after[5:7]), int(after[8:10]), 10, 0),
    ]
    for (calendar, _), event in zip(files, events, strict=True):
        (vtimezone,) = calendar.timezones
        assert vtimezone["TZID"] == zone == event["DTSTART"].params["TZID"]
        wall = event.decoded("DTSTART").replace(tzinfo=vtimezone.to_tz(lookup_tzid=False))
        assert wall.astimezone(UTC) == event.decoded("DTSTART").astimezone(UTC)
    assert events[1].decoded("DTSTART").astimezone(UTC) == datetime.fromisoformat(after)


@pytest.mark.parametrize("details", ["date_time", "with_provider"])
async def test_mails_and_files_say_only_what_the_office_allows(
    details: str, small_practice: SmallPractice, link_keys: Path
) -> None:
    ids = small_practice
    _, now, before, after, *_ = DST["us-fall"]
    with mail_relay() as relay:
        async with mailing_practice(ids, link_keys, relay, now=now, details=details) as practice:
            booked = await practice.call(
                "booking.book",
                appointment_type_id=ids.FOLLOW_UP,
                provider_id=ids.DR_ADAMS,
                start=before,
            )
            plant_canaries(ids)
            moved = await practice.call(
                "booking.reschedule",
                appointment_id=booked["id"],
                provider_id=ids.DR_ADAMS,
                start=after,
            )
            plant_canaries(ids)
            download = await practice.call(
                "booking.calendar_file", appointment_id=moved["appointment"]["id"]
            )
            await practice.call("booking.cancel", appointment_id=moved["appointment"]["id"])
            mails = await practice.deliver()
    assert len(mails) == 3
    everything: list[str] = [download["calendar"]]
    for mail in mails:
        # The subject shows on a locked phone: no time, provider or type whatever the mode.
        assert mail.message["Subject"].startswith("Your appointment at Example Family Clinic ")
        assert not any(ch.isdigit() for ch in mail.message["Subject"])
        everything += [_text(mail), mail.part("text/html")]
        calendar, _ = calendar_of(mail)
        everything.append(calendar.to_ical().decode())
        event = the_event(calendar)
        if details == "with_provider":
            assert str(event["SUMMARY"]) == "Follow-up with Dr. Adams"
        else:
            assert str(event["SUMMARY"]) == "Appointment at Example Family Clinic"
        assert str(event["LOCATION"]) == "Example Family Clinic"
    for text in everything:
        assert CANARY not in text and "diabetes" not in text
        assert "Example" not in text.replace("Example Family Clinic", "")  # no last name
        assert ("Dr. Adams" in text) == (details == "with_provider")
        assert ("Follow-up" in text) == (details == "with_provider")


async def test_the_download_is_the_patients_own_and_audited(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    ids = small_practice
    now, before = DST["us-fall"][1], DST["us-fall"][2]
    with mail_relay() as relay:
        async with mailing_practice(ids, link_keys, relay, now=now) as practice:
            mine = await practice.call(
                "booking.book",
                appointment_type_id=ids.FOLLOW_UP,
                provider_id=ids.DR_ADAMS,
                start=before,
            )
            theirs = await practice.call(
                "booking.book",
                patient=2,
                appointment_type_id=ids.FOLLOW_UP,
                provider_id=ids.DR_BAKER,
                start=before,
            )
            own = await practice.call("booking.calendar_file", appointment_id=mine["id"])
            refusals = [
                await _refused(practice, theirs["id"]),
                await _refused(practice, mine["id"] + theirs["id"] + 1000),
            ]
            audit = practice_audit(practice)
            # A download changes nothing: no mail, the same SEQUENCE as the booking's.
            assert len(await practice.deliver()) == 2  # the two bookings' own mails
    assert own["filename"] == "appointment-2026-10-30.ics"
    event = the_event(Calendar.from_ical(own["calendar"]))
    assert str(event["UID"]) == f"{mine['id']}@example-clinic.portico"
    assert event["SEQUENCE"] == 0
    assert refusals[0] == refusals[1] == ("not_found", "That appointment was not found.")
    assert [(row["outcome"], row["detail"]) for row in audit] == [
        ("ok", f"appointment:{mine['id']}"),
        ("not_found", f"appointment:{theirs['id']}"),
        ("not_found", f"appointment:{mine['id'] + theirs['id'] + 1000}"),
    ]
    assert {row["patient_id"] for row in audit} == {ids.patient(1)}


async def test_only_an_upcoming_booked_appointment_is_downloaded(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """A replaced (rescheduled) or cancelled appointment's file would carry the live event's
    UID in an older state, which a calendar could apply to the real appointment: it gets the
    answer a missing one gets. What is still booked downloads as a PUBLISH copy."""
    ids = small_practice
    now, before, after = DST["us-fall"][1], DST["us-fall"][2], DST["us-fall"][3]
    with mail_relay() as relay:
        async with mailing_practice(ids, link_keys, relay, now=now) as practice:
            first = await practice.call(
                "booking.book",
                appointment_type_id=ids.FOLLOW_UP,
                provider_id=ids.DR_ADAMS,
                start=before,
            )
            moved = await practice.call(
                "booking.reschedule",
                appointment_id=first["id"],
                provider_id=ids.DR_ADAMS,
                start=after,
            )
            live = await practice.call(
                "booking.calendar_file", appointment_id=moved["appointment"]["id"]
            )
            replaced = await _refused(practice, first["id"])
            await practice.call("booking.cancel", appointment_id=moved["appointment"]["id"])
            cancelled = await _refused(practice, moved["appointment"]["id"])
    calendar = Calendar.from_ical(live["calendar"])
    assert calendar["METHOD"] == "PUBLISH"
    assert "ORGANIZER" not in the_event(calendar)
    assert replaced == cancelled == ("not_found", "That appointment was not found.")


async def _refused(practice: MailingPractice, appointment_id: int) -> tuple[str, str]:
    with pytest.raises(RemoteError) as caught:
        await practice.call("booking.calendar_file", appointment_id=appointment_id)
    return caught.value.code, caught.value.message


def practice_audit(practice: MailingPractice) -> list[dict[str, Any]]:
    return query(
        practice.small.settings,
        "SELECT patient_id, outcome, detail FROM portal_audit"
        " WHERE action = 'appointments.calendar_file' ORDER BY id",
    )
