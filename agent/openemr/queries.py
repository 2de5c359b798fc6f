"""What Portico reads from an OpenEMR database: calendar rows, the calendar globals, bookable
providers, patient appointment categories (patients and their own appointments:
agent/openemr/people.py).

Plain functions over the caller's PyMySQL DictCursor (agent/db/pool.py), run inside its
transaction; nothing here writes. The OpenEMR practice store wraps them. Every table is named
by the `tables` keyword (:class:`~agent.openemr.tables.Tables`): the connection's default
database is Portico's own, not OpenEMR's.

Two rules hold throughout (README of issue 13, section 8):
- `pc_aid` and `pc_pid` are varchars holding ids as text, and are compared with strings. A
  numeric comparison would cast every row's value (no index) and match '5abc' or '05' to 5:
  another provider's row, or another patient's.
- Values whose exact spelling matters are compared in Python, not SQL: the tables are
  utf8mb4_general_ci, where 'yes' = 'YES ' = 'YES', but OpenEMR's portal login compares
  `allow_patient_portal` with PHP's `!= "YES"`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.openemr.calendar import (
    CLINIC_WIDE,
    IN_OFFICE,
    OUT_OF_OFFICE,
    CalendarEvent,
    event_from_row,
)
from agent.openemr.recurrence import parse_weekend_days
from agent.openemr.tables import Tables

# The longest range `calendar_events` reads: the booking horizon's maximum (730 days,
# agent/config.py) plus a day either side. One query's rows stay bounded by the practice's
# calendar over two years, never by its whole history.
MAX_RANGE_DAYS = 732
# Installer defaults of the globals the finder reads (library/globals.inc.php; README 2.6).
DEFAULT_SLOT_MINUTES = 15
# `pc_constant_id` of the category OpenEMR's portal never offers (add_edit_event_user.php).
NO_SHOW = "no_show"

# Exactly the columns `event_from_row` reads.
_EVENT_COLUMNS = (
    "pc_eid, pc_aid, pc_pid, pc_catid, pc_eventDate, pc_endDate, pc_startTime, pc_duration,"
    " pc_recurrtype, pc_recurrspec, pc_apptstatus, pc_prefcatid, pc_alldayevent"
)


def _placeholders(values: Collection[object]) -> str:
    return ", ".join(["%s"] * len(values))


@dataclass(frozen=True, slots=True)
class CalendarRows:
    """`calendar_events`' answer: the rows as CalendarEvents, in `pc_eid` order, and the
    `pc_eid` of rows no CalendarEvent can hold (a zero or zero-in-date `pc_eventDate`, which
    a non-strict server stores): they block nothing, as in OpenEMR, and the caller counts
    them with `Schedules.skipped`."""

    events: tuple[CalendarEvent, ...]
    unreadable: tuple[int, ...]


def calendar_events(
    cursor: Any,
    provider_ids: Collection[str],
    first_day: date,
    last_day: date,
    *,
    tables: Tables,
) -> CalendarRows:
    """Every `openemr_postcalendar_events` row that can open or block time of `provider_ids`
    (`users.id` as text, as `pc_aid` holds it) on local days [first_day, last_day]:

    - rows dated from the day before `first_day` to `last_day` (a row of the day before may
      run past midnight), whatever their recurrence type;
    - repeating rows that start earlier and whose `pc_endDate` reaches the day before
      `first_day` (a NULL end date is no occurrence at all, README 6.5);
    - those of clinic-wide rows (`pc_aid = '0'`); `provider_schedules` decides whether they
      block (`CalendarRules.clinic_wide_blocks`).

    Status, `pc_eventstatus`, `pc_sharing` and category are not filtered, as OpenEMR's
    finders filter none of them (README 5.2): the calendar core applies the policy."""
    if last_day < first_day or (last_day - first_day).days >= MAX_RANGE_DAYS:
        raise ValueError(f"calendar range {first_day}..{last_day} is empty or too long")
    if not provider_ids:
        return CalendarRows((), ())
    owners = sorted({str(provider) for provider in provider_ids} | {CLINIC_WIDE})
    since = first_day - timedelta(days=1)
    # No index leads with pc_aid. Rows of the range come by the `pc_eventDate` index.
    # Repeating rows begin any time before it, so they come by `basic_event` (pc_catid,
    # pc_aid, pc_eventDate, pc_endDate, ...): one range per category and provider, filtered
    # on pc_endDate inside the index. Its leading column needs the categories in use, a
    # loose index scan of the same index (not the categories table: a row may keep the id
    # of a category since deleted, and still blocks its time).
    cursor.execute(f"SELECT DISTINCT pc_catid FROM {tables.events}")
    categories = [row["pc_catid"] for row in cursor.fetchall()]
    if not categories:  # an empty calendar
        return CalendarRows((), ())
    marks = _placeholders(owners)
    cursor.execute(
        f"SELECT {_EVENT_COLUMNS} FROM {tables.events}"
        f" WHERE pc_aid IN ({marks}) AND pc_eventDate BETWEEN %s AND %s"
        " UNION ALL"
        f" SELECT {_EVENT_COLUMNS} FROM {tables.events}"
        f" WHERE pc_catid IN ({_placeholders(categories)}) AND pc_aid IN ({marks})"
        " AND pc_eventDate < %s AND pc_endDate >= %s"
        " ORDER BY pc_eid",
        [*owners, since, last_day, *categories, *owners, since, since],
    )
    events: list[CalendarEvent] = []
    unreadable: list[int] = []
    for row in cursor.fetchall():
        try:
            events.append(event_from_row(row))
        except ValueError:
            unreadable.append(int(row["pc_eid"]))
    return CalendarRows(tuple(events), tuple(unreadable))


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """The globals OpenEMR's appointment finder depends on (README 2.6, 5.1)."""

    # `gbl_time_zone`. None when the row is missing, blank or names no zone known here:
    # OpenEMR then runs on PHP's `date.timezone`, which is not in the database, so the
    # practice's configured zone has to stand in.
    time_zone: ZoneInfo | None
    # `weekend_days`, PHP weekday numbers in listed order. A missing row is the default
    # (6, 0); a blank one is no weekend day at all, as OpenEMR's `explode(',', '')` gives.
    weekend: tuple[int, ...]
    # `calendar_interval`, minutes of the finder's slot grid. Missing, blank or not a whole
    # number of minutes in 1..1440: the default 15 (OpenEMR would fail on a blank one).
    slot_minutes: int


_CALENDAR_GLOBALS = ("gbl_time_zone", "weekend_days", "calendar_interval")


def practice_calendar_settings(cursor: Any, *, tables: Tables) -> CalendarSettings:
    """The calendar globals. `schedule_start`/`schedule_end` are left out: they only bound
    the calendar grid's display, and OpenEMR's finder does not read them (README 2.6)."""
    cursor.execute(
        f"SELECT gl_name, gl_value FROM {tables.globals} WHERE gl_name IN"
        f" ({_placeholders(_CALENDAR_GLOBALS)}) ORDER BY gl_name, gl_index",
        _CALENDAR_GLOBALS,
    )
    # OpenEMR reads rows in this order and assigns each to the global: the last one wins
    # (interface/globals.php).
    values: dict[str, str] = {row["gl_name"]: row["gl_value"] for row in cursor.fetchall()}
    return CalendarSettings(
        time_zone=_zone(values.get("gbl_time_zone")),
        weekend=parse_weekend_days(values.get("weekend_days")),
        slot_minutes=_slot_minutes(values.get("calendar_interval")),
    )


def _zone(name: str | None) -> ZoneInfo | None:
    name = (name or "").strip()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # PHP's date_default_timezone_set() refuses an unknown name and keeps its zone.
        return None


def _slot_minutes(value: str | None) -> int:
    text = (value or "").strip()
    if text.isdigit() and 1 <= int(text) <= 24 * 60:
        return int(text)
    return DEFAULT_SLOT_MINUTES


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider patients may book. `pc_aid` of their calendar rows is `str(id)`."""

    id: int  # users.id
    name: str  # title, first and last name, as a patient reads it


def providers(cursor: Any, *, scheduled_from: date, tables: Tables) -> list[Provider]:
    """Providers as README 2.2 recommends (`authorized = 1 AND active = 1 AND calendar = 1
    AND username <> ''`) who also have an In Office row on or after `scheduled_from` (a
    single one dated then or later, or a series ending then or later), ordered by last name.

    The In Office condition is Portico's: OpenEMR lists every authorized user, and its
    installer makes the admin (id 1) an authorized calendar user with no schedule, whom no
    patient could ever book. A user who works is offered, whatever their id."""
    cursor.execute(
        f"SELECT id, title, fname, lname FROM {tables.users}"
        " WHERE authorized = 1 AND active = 1 AND calendar = 1 AND username <> ''"
    )
    users = {str(row["id"]): row for row in cursor.fetchall()}
    if not users:
        return []
    # basic_event's (pc_catid, pc_aid) prefix; the dates are filtered inside the index.
    cursor.execute(
        f"SELECT DISTINCT pc_aid FROM {tables.events}"
        f" WHERE pc_catid = %s AND pc_aid IN ({_placeholders(users)})"
        " AND (pc_eventDate >= %s OR pc_endDate >= %s)",
        [IN_OFFICE, *users, scheduled_from, scheduled_from],
    )
    # Python's exact text: the index compares under general_ci, where '5 ' equals '5'.
    working = {row["pc_aid"] for row in cursor.fetchall()} & users.keys()
    chosen = [users[key] for key in working]
    chosen.sort(key=lambda row: ((row["lname"] or "").lower(), (row["fname"] or "").lower()))
    return [Provider(int(row["id"]), provider_name(row)) for row in chosen]


def provider_name(row: Mapping[str, Any]) -> str:
    """'Dr. Meredith Grey' from a `users` row's title, fname and lname."""
    parts = (row.get("title"), row.get("fname"), row.get("lname"))
    name = " ".join(str(part).strip() for part in parts if part and str(part).strip())
    return name or f"Provider {row['id']}"


@dataclass(frozen=True, slots=True)
class AppointmentCategory:
    """A category a patient may book: `pc_catid`, its stable `pc_constant_id`, its name."""

    id: int
    constant_id: str | None
    name: str
    minutes: int  # pc_duration is seconds; rounded up, so a booking never runs short


def appointment_categories(cursor: Any, *, tables: Tables) -> list[AppointmentCategory]:
    """What OpenEMR's portal offers (README 2.4: `pc_active = 1`, `pc_cattype = 0`, not
    constant `no_show`, by `pc_seq`), less what it would book wrongly: the In and Out
    markers by id even if a practice made them patient categories (a booking of one would
    open or close a provider's day), and categories of no duration (nothing to book)."""
    cursor.execute(
        "SELECT pc_catid, pc_constant_id, pc_catname, pc_duration"
        f" FROM {tables.categories}"
        " WHERE pc_active = 1 AND pc_cattype = 0 AND pc_duration > 0"
        " AND pc_catid NOT IN (%s, %s)"
        " ORDER BY pc_seq, pc_catid",
        (IN_OFFICE, OUT_OF_OFFICE),
    )
    return [
        AppointmentCategory(
            id=int(row["pc_catid"]),
            constant_id=row["pc_constant_id"],
            name=row["pc_catname"] or "",
            minutes=math.ceil(int(row["pc_duration"]) / 60),
        )
        for row in cursor.fetchall()
        # Exact, in Python: a NULL constant is offered, as PHP's `=== 'no_show'` offers it.
        if row["pc_constant_id"] != NO_SHOW
    ]
