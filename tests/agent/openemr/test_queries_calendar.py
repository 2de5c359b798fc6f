"""`calendar_events` and `practice_calendar_settings` over rows written as OpenEMR writes them.
Which rows come back, and which settings, is written by hand from README 2.6, 5.2 and 6.5."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymysql.cursors import DictCursor

from agent.openemr.queries import (
    CalendarRows,
    CalendarSettings,
    calendar_events,
    practice_calendar_settings,
)
from agent.openemr.tables import Tables
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import DAY, WEEK, WORKDAY, every
from tests.support.openemr.rows import (
    IN_OFFICE,
    LUNCH,
    OFFICE_VISIT,
    OUT_OF_OFFICE,
    add_category,
    add_event,
    add_provider,
    insert,
    set_global,
)

CLOSED = 7
FIRST, LAST = date(2026, 11, 2), date(2026, 11, 6)  # Monday to Friday


@pytest.fixture
def cursor(openemr_db: OpenEMRDatabase) -> Iterator[DictCursor]:
    """A cursor on a connection in the fixture's sql_mode, as the agent's pool opens one."""
    connection = openemr_db.connect()
    with connection, connection.cursor() as cursor:
        yield cursor


def _sql(db: OpenEMRDatabase, statement: str, args: Any = ()) -> None:
    connection = db.as_openemr()
    with connection, connection.cursor() as cursor:
        cursor.execute(statement, args)


def _tables(cursor: DictCursor) -> Tables:
    """The tables of the database the cursor's connection uses."""
    return Tables.of(cursor.connection.db.decode())


def read(cursor: DictCursor, *providers: int) -> CalendarRows:
    return calendar_events(cursor, [str(p) for p in providers], FIRST, LAST, tables=_tables(cursor))


def test_the_rows_that_can_touch_the_days_and_no_others(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    db = openemr_db
    grey = add_provider(db, username="grey", fname="Meredith", lname="Grey")
    house = add_provider(db, username="house", fname="Gregory", lname="House")
    series = {"repeat": every(1, WORKDAY)}
    expected = [
        # Repeating markers and a lunch running through the days.
        add_event(
            db,
            provider=grey,
            category=IN_OFFICE,
            day="2026-10-01",
            start="9:00",
            until="2026-12-31",
            **series,
        ),
        add_event(
            db,
            provider=grey,
            category=OUT_OF_OFFICE,
            day="2026-10-01",
            start="17:00",
            until="2026-12-31",
            **series,
        ),
        # A series ending on the day before the first day: its last occurrence may run past
        # midnight into it.
        add_event(
            db,
            provider=grey,
            category=LUNCH,
            day="2026-10-01",
            start="12:00",
            minutes=60,
            until="2026-11-01",
            repeat=every(1, DAY),
        ),
        # A series starting on the last day.
        add_event(
            db,
            provider=grey,
            category=LUNCH,
            day="2026-11-06",
            start="12:00",
            minutes=60,
            until="2026-12-31",
            **series,
        ),
        # Single rows on the day before (past midnight) and on the first and last days.
        add_event(
            db,
            provider=grey,
            category=OFFICE_VISIT,
            day="2026-11-01",
            start="23:30",
            minutes=60,
            patient=1001,
        ),
        add_event(
            db,
            provider=grey,
            category=OFFICE_VISIT,
            day="2026-11-02",
            start="9:00",
            minutes=15,
            patient=1002,
            status="^",
        ),
        # Cancelled: read all the same; whether it frees the slot is the core's policy.
        add_event(
            db,
            provider=grey,
            category=OFFICE_VISIT,
            day="2026-11-06",
            start="16:45",
            minutes=15,
            patient=1003,
            status="x",
        ),
        # Clinic-wide Closed day (pc_aid '0').
        add_event(db, provider=0, category=CLOSED, day="2026-11-04", all_day=True),
    ]
    # None of these can touch grey's days.
    add_event(
        db,
        provider=grey,
        category=LUNCH,
        day="2026-10-01",
        start="12:00",
        minutes=60,
        until="2026-10-31",
        repeat=every(1, DAY),
    )  # ends two days before
    add_event(
        db,
        provider=grey,
        category=LUNCH,
        day="2026-11-07",
        start="12:00",
        minutes=60,
        until="2026-12-31",
        repeat=every(1, DAY),
    )  # starts the day after
    add_event(
        db,
        provider=grey,
        category=IN_OFFICE,
        day="2026-10-01",
        start="8:00",
        repeat=every(1, WORKDAY),
    )  # no end date: no occurrence at all
    add_event(
        db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-10-31",
        start="23:30",
        minutes=60,
        patient=1004,
    )  # two days before
    add_event(
        db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-11-07",
        start="9:00",
        minutes=15,
        patient=1005,
    )  # the day after
    theirs = [  # another provider's
        add_event(
            db,
            provider=house,
            category=OFFICE_VISIT,
            day="2026-11-03",
            start="9:00",
            minutes=15,
            patient=1006,
        ),
        add_event(
            db,
            provider=house,
            category=IN_OFFICE,
            day="2026-10-01",
            start="9:00",
            until="2026-12-31",
            **series,
        ),
    ]
    # '02' is not '2': compared as text, as OpenEMR writes `pc_aid`, not cast to a number.
    add_event(
        db,
        provider=f"0{grey}",
        category=OFFICE_VISIT,
        day="2026-11-03",
        start="9:00",
        minutes=15,
        patient=1007,
    )

    rows = read(cursor, grey)

    assert [event.eid for event in rows.events] == expected
    assert rows.unreadable == ()
    assert {event.provider for event in rows.events} == {str(grey), "0"}
    assert [event.eid for event in read(cursor, house).events] == [expected[-1], *theirs]


def test_several_providers_are_read_in_one_go(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    grey = add_provider(openemr_db, username="grey", fname="Meredith", lname="Grey")
    house = add_provider(openemr_db, username="house", fname="Gregory", lname="House")
    mine = add_event(openemr_db, provider=grey, category=IN_OFFICE, day="2026-11-03", start="9:00")
    theirs = add_event(
        openemr_db, provider=house, category=IN_OFFICE, day="2026-11-03", start="9:00"
    )

    assert [e.eid for e in read(cursor, grey, house).events] == [mine, theirs]
    assert read(cursor).events == ()


def test_a_row_of_a_deleted_category_still_comes_back(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    """The admin may delete a category its rows still name: they keep blocking their time."""
    grey = add_provider(openemr_db, username="grey", fname="Meredith", lname="Grey")
    meeting = add_category(openemr_db, "staff_meeting", "Staff Meeting", 1800, cattype=1)
    eid = add_event(
        openemr_db,
        provider=grey,
        category=meeting,
        day="2026-10-05",
        start="16:00",
        minutes=30,
        until="2026-12-28",
        repeat=every(1, WEEK),
    )
    _sql(openemr_db, "DELETE FROM openemr_postcalendar_categories WHERE pc_catid = %s", (meeting,))

    [event] = read(cursor, grey).events
    assert (event.eid, event.category) == (eid, meeting)


def test_rows_with_a_date_no_calendar_event_holds_are_counted_not_raised(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    """A non-strict server stores '0000-00-00' and '2026-10-00' (zero in date); a series
    starting on one is read but opens and blocks nothing. (A single row dated with a zero day
    sorts before the first of its month, outside any range.)"""
    grey = add_provider(openemr_db, username="grey", fname="Meredith", lname="Grey")
    zero = add_event(
        openemr_db,
        provider=grey,
        category=IN_OFFICE,
        day="0000-00-00",
        start="9:00",
        until="2026-12-31",
        repeat=every(1, WORKDAY),
    )
    zero_day = add_event(
        openemr_db,
        provider=grey,
        category=OUT_OF_OFFICE,
        day="2026-10-00",
        start="17:00",
        until="2026-12-31",
        repeat=every(1, WORKDAY),
    )
    good = add_event(
        openemr_db,
        provider=grey,
        category=OFFICE_VISIT,
        day="2026-11-03",
        start="9:00",
        minutes=15,
        patient=1002,
    )

    rows = read(cursor, grey)

    assert [event.eid for event in rows.events] == [good]
    assert rows.unreadable == (zero, zero_day)


def test_an_empty_calendar_and_a_range_too_long_or_reversed(cursor: DictCursor) -> None:
    assert calendar_events(cursor, ["2"], FIRST, LAST, tables=_tables(cursor)) == CalendarRows(
        (), ()
    )
    with pytest.raises(ValueError):
        calendar_events(cursor, ["2"], LAST, FIRST, tables=_tables(cursor))
    with pytest.raises(ValueError):
        calendar_events(cursor, ["2"], date(2026, 1, 1), date(2028, 1, 3), tables=_tables(cursor))


def test_the_installers_globals_give_no_zone_a_weekend_of_saturday_sunday_and_15_minutes(
    cursor: DictCursor,
) -> None:
    assert practice_calendar_settings(cursor, tables=_tables(cursor)) == CalendarSettings(
        time_zone=None, weekend=(6, 0), slot_minutes=15
    )


def test_a_practices_globals_are_read_as_set(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    set_global(openemr_db, "gbl_time_zone", "America/New_York")
    set_global(openemr_db, "weekend_days", "5,6")
    set_global(openemr_db, "calendar_interval", "20")

    assert practice_calendar_settings(cursor, tables=_tables(cursor)) == CalendarSettings(
        time_zone=ZoneInfo("America/New_York"), weekend=(5, 6), slot_minutes=20
    )


def test_missing_globals_take_the_installers_defaults(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    set_global(openemr_db, "gbl_time_zone", "Europe/Lisbon")
    _sql(openemr_db, "DELETE FROM globals")

    assert practice_calendar_settings(cursor, tables=_tables(cursor)) == CalendarSettings(
        time_zone=None, weekend=(6, 0), slot_minutes=15
    )


@pytest.mark.parametrize(
    ("zone", "weekend", "interval"),
    [("", "", ""), ("Mars/Olympus_Mons", "", "abc"), ("  ", "", "0"), ("", "", "1441")],
)
def test_blank_or_unusable_globals(
    openemr_db: OpenEMRDatabase, cursor: DictCursor, zone: str, weekend: str, interval: str
) -> None:
    """A blank weekend is no weekend (PHP's explode gives ['']); an unknown or blank zone is
    PHP's own, not in the database; an interval that is no slot length is the default."""
    set_global(openemr_db, "gbl_time_zone", zone)
    set_global(openemr_db, "weekend_days", weekend)
    set_global(openemr_db, "calendar_interval", interval)

    assert practice_calendar_settings(cursor, tables=_tables(cursor)) == CalendarSettings(
        time_zone=None, weekend=(), slot_minutes=15
    )


def test_of_several_rows_of_a_global_the_last_index_wins(
    openemr_db: OpenEMRDatabase, cursor: DictCursor
) -> None:
    """interface/globals.php assigns rows in (gl_name, gl_index) order."""
    insert(openemr_db, "globals", {"gl_name": "calendar_interval", "gl_index": 1, "gl_value": "30"})

    assert practice_calendar_settings(cursor, tables=_tables(cursor)).slot_minutes == 30
