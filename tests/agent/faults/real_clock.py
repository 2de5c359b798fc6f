"""Sessions and bookable times for an agent process on the real clock.

A separate `portico-agent run` cannot be given the FixedClock of tests/support/practice.py, so its
sessions are made at the real "now" and its slots lie a few days ahead of it: past the small
practice's 24 hours of minimum notice, well inside its 30-day horizon, in the providers'
weekday hours (09:00-17:00 in New York, see seed_small_practice).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.access import queries
from agent.db.pool import DatabaseSettings
from agent.store.portico.patients import PorticoPatients
from tests.agent.access_fixtures import email_of
from tests.support.database import connect
from tests.support.practice import TIMEZONE

FIRST_DAY_AHEAD = 3  # the earliest day offered, counted from today in the practice's zone
SLOT_MINUTES = 30  # a Follow-up


def sessions_for(settings: DatabaseSettings, patients: Iterable[int]) -> dict[int, str]:
    """A signed-in session per patient, made the way sign-in makes one (an active account and a
    session row), without an argon2 hash each; as RunningPractice.session_for, on real time."""
    now = datetime.now(UTC)
    sessions = {}
    connection = connect(settings, dict_rows=True)
    with connection, connection.cursor() as cursor:
        for patient in patients:
            account = queries.account_by(cursor, PorticoPatients(), "a.patient_id", patient)
            account_id = (
                account["id"]
                if account is not None
                else queries.create_account(
                    cursor,
                    patient_id=patient,
                    email=email_of(patient),
                    login_email=email_of(patient),
                    username=None,
                    status="active",
                    access_enabled=True,
                    now=now,
                )
            )
            sessions[patient], _ = queries.create_session(
                cursor, account_id, now, timedelta(hours=12), "127.0.0.1"
            )
    return sessions


def bookable_starts(count: int) -> list[str]:
    """`count` distinct Follow-up start times (UTC, as booking.book takes them) that a provider
    with the small practice's hours has free, from FIRST_DAY_AHEAD days on."""
    starts = []
    for start in _weekday_half_hours():
        starts.append(start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if len(starts) == count:
            return starts
    raise AssertionError("unreachable: the generator is endless")


def _weekday_half_hours() -> Iterator[datetime]:
    zone = ZoneInfo(TIMEZONE)
    day = datetime.now(zone).date() + timedelta(days=FIRST_DAY_AHEAD)
    while True:
        if day.weekday() < 5:
            opening = datetime.combine(day, time(9, 0), zone)
            for step in range(8 * 60 // SLOT_MINUTES):
                # Wall-clock arithmetic in the zone: correct on DST days too.
                yield opening + timedelta(minutes=step * SLOT_MINUTES)
        day += timedelta(days=1)
