"""A demo practice, generated deterministically from a seed into an empty, migrated database.

The demo and the tests need a practice that looks like a real one — split days, a Saturday
clinic, a part-timer, a vacation, families sharing one email, records with no email or zip,
the same person entered twice with the address typed differently — so that slot computation,
invites and the duplicate report meet the cases they meet in an office. All names are
invented and every email is at example.org (RFC 2606), so no demo mail can reach anyone.

It refuses a database that already holds practice data: demo rows mixed into a real practice
could not be told apart from real patients afterwards.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pymysql

GRID = 15  # appointments start on the quarter hour, local time, like an office's book
DAYS_EACH_SIDE = 60
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


class DemoSeedRefused(Exception):
    """The database is not an empty, migrated practice database; nothing was written."""


@dataclass(frozen=True, slots=True)
class SeedSummary:
    providers: int
    appointment_types: int
    patients: int
    appointments: int
    shared_email_groups: int  # emails used, exactly, by more than one patient (families)
    case_variant_groups: int  # emails spelled differently only in case or surrounding space
    patients_without_email: int
    patients_without_zip: int
    time_off: int

    def describe(self) -> str:
        return (
            f"{self.providers} providers, {self.appointment_types} appointment types, "
            f"{self.patients} patients ({self.shared_email_groups} shared-email families, "
            f"{self.case_variant_groups} emails spelled two ways, "
            f"{self.patients_without_email} without email, "
            f"{self.patients_without_zip} without zip), {self.appointments} appointments, "
            f"{self.time_off} time-off periods"
        )


# name, minutes, bookable online, how often the office books it
_TYPES = (
    ("New patient visit", 60, True, 10),
    ("Follow-up", 30, True, 40),
    ("Annual physical", 45, True, 15),
    ("Quick check", 15, True, 20),
    ("Telehealth", 20, True, 15),
    ("Procedure", 90, False, 6),
)
_TYPE_INDEX = {t[0]: i for i, t in enumerate(_TYPES)}


def _week(days: tuple[int, ...], *blocks: tuple[str, str]) -> tuple[tuple[int, str, str], ...]:
    return tuple((day, start, end) for day in days for start, end in blocks)


_MON_FRI = (0, 1, 2, 3, 4)
_LUNCH_DAY = (("08:00", "12:00"), ("13:00", "17:00"))

# (display name, weekly hours as (weekday 0=Monday, local start, local end), types offered)
_PROVIDERS: tuple[tuple[str, tuple[tuple[int, str, str], ...], tuple[str, ...]], ...] = (
    (
        "Dr. Amelia Hart",
        _week(_MON_FRI, *_LUNCH_DAY),
        ("New patient visit", "Follow-up", "Annual physical", "Quick check", "Procedure"),
    ),
    (
        "Dr. Samuel Okafor",  # no Wednesdays, Saturday mornings instead
        _week((0, 1, 3, 4), ("08:30", "12:30"), ("13:30", "17:00"))
        + _week((5,), ("08:00", "12:00")),
        ("New patient visit", "Follow-up", "Quick check", "Telehealth"),
    ),
    (
        "Dr. Priya Raman",  # part-time
        _week((1, 3), ("09:00", "13:00")) + _week((2,), ("09:00", "13:00"), ("14:00", "16:00")),
        ("Follow-up", "Annual physical", "Telehealth"),
    ),
    (
        "Nurse Practitioner Lena Fischer",  # the late clinic, no lunch break
        _week((0, 1, 2, 3), ("10:00", "18:30")) + _week((4,), ("08:00", "12:00")),
        ("Follow-up", "Annual physical", "Quick check", "Telehealth"),
    ),
    (
        "Dr. Tomás Alvarez",
        _week(_MON_FRI, ("07:30", "11:30"), ("12:15", "16:15")),
        ("New patient visit", "Follow-up", "Annual physical", "Procedure"),
    ),
)

_FIRST_NAMES = (  # noqa: SIM905 -- prose-like lists; literals would run 140 lines
    "Zoë José Chloé Søren Maëlle Björn Ngozi Aoife Siobhán Renée Jürgen Ana Mohammed Fatima "
    "Wei Mei Hiroshi Yuki Olga Dmitri Ravi Ananya Ahmed Leila Kwame Ama Liam Olivia Noah Emma "
    "James Sophia Ethan Ava Lucas Mia Mateo Isabella Elijah Harper Benjamin Grace Henry Evelyn "
    "Jack Abigail Daniel Emily Sebastián Camila Ann Thanh Linh Łucja Ólafur Inès François "
    "Margaret Robert Dorothy Walter Ruth Arthur Nora Omar Yasmin Kai Ingrid"
).split()
_LAST_NAMES = (  # noqa: SIM905
    "Lee, Nguyễn, Trần, García, Martínez, Müller, Schröder, O'Brien, O'Connor, Smith, Johnson, "
    "Williams, Brown, Jones, Miller, Davis, Rodríguez, Hernández, López, González, Wilson, "
    "Anderson, Taylor, Moore, Jackson, Martin, Thompson, White, Harris, Clark, Lewis, Robinson, "
    "Walker, Young, Allen, King, Wright, Scott, Kim, Park, Chen, Wang, Li, Zhang, Patel, Shah, "
    "Singh, Khan, Okonkwo, Adeyemi, Mensah, Kowalski, Nowak, Dvořák, Łukasiewicz, Ødegaard, "
    "Fernández, Pérez, Sánchez, Cohen, Haddad, Nakamura, Tanaka, Ivanova, Petrov, Smith-Jones, "
    "Van der Berg, Bjørnstad"
).split(", ")
_ZIPS = ("02139", "02140", "02141", "02143", "02144", "02145", "02148", "02155", "02474")
# Letters NFKD does not decompose, for the ASCII local part of synthetic addresses.
_ASCII = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "đ": "d"})


@dataclass(frozen=True, slots=True)
class _Patient:
    first_name: str
    last_name: str
    date_of_birth: date
    email: str | None
    home_zip: str | None
    phone: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Appointment:
    patient: int  # index into the patient list
    provider: int  # index into _PROVIDERS
    type: int  # index into _TYPES
    starts_at: datetime  # UTC, naive
    ends_at: datetime
    status: str
    created_at: datetime
    late_cancel: bool = False
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None


def seed_demo(
    connection: pymysql.connections.Connection[Any],
    *,
    now: datetime,
    timezone: str,
    seed: int = 7,
    patients: int = 300,
) -> SeedSummary:
    """Fill an empty, migrated practice database with a demo practice, in one transaction.

    `now` is the moment the demo is built around (aware, or naive UTC): appointments cover the
    local days from 60 before to 60 after it. `timezone` is the practice's IANA zone; working
    hours are local and turned into UTC per date, so daylight-saving changes come out right.
    The same seed, now and timezone give the same practice. Raises DemoSeedRefused, writing
    nothing, if the database already holds practice rows or has not been migrated.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    now = now.replace(microsecond=0)

    rng = random.Random(seed)
    people = _make_patients(rng, patients, now)
    time_off = _time_off(now, tz)
    appointments = _make_appointments(rng, people, time_off, now, tz)

    connection.begin()
    try:
        with connection.cursor() as cursor:
            _refuse_unless_empty(cursor)
            _write(cursor, people, time_off, appointments)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise

    emails = Counter(p.email for p in people if p.email is not None)
    normalised: dict[str, set[str]] = {}
    for email in emails:
        normalised.setdefault(email.strip().casefold(), set()).add(email)
    return SeedSummary(
        providers=len(_PROVIDERS),
        appointment_types=len(_TYPES),
        patients=len(people),
        appointments=len(appointments),
        shared_email_groups=sum(1 for n in emails.values() if n > 1),
        case_variant_groups=sum(1 for v in normalised.values() if len(v) > 1),
        patients_without_email=sum(1 for p in people if p.email is None),
        patients_without_zip=sum(1 for p in people if p.home_zip is None),
        time_off=sum(len(v) for v in time_off.values()),
    )


def _refuse_unless_empty(cursor: Any) -> None:
    for table in ("patients", "providers", "appointment_types", "appointments"):
        try:
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
        except pymysql.err.ProgrammingError as exc:
            if exc.args[0] == 1146:  # no such table
                raise DemoSeedRefused(
                    f"the database has no {table} table; run `portico-agent migrate` first"
                ) from None
            raise
        if cursor.fetchone() is not None:
            raise DemoSeedRefused(
                f"the {table} table already has rows; the demo is only ever seeded into an "
                "empty database, so demo patients can never mix with a real practice's"
            )


def _write(
    cursor: Any,
    people: list[_Patient],
    time_off: dict[int, list[tuple[datetime, datetime]]],
    appointments: list[_Appointment],
) -> None:
    provider_ids = []
    for name, _, _ in _PROVIDERS:
        cursor.execute(
            "INSERT INTO providers (display_name, active, online_booking) VALUES (%s, 1, 1)",
            (name,),
        )
        provider_ids.append(int(cursor.lastrowid))
    type_ids = []
    for name, minutes, online, _ in _TYPES:
        cursor.execute(
            "INSERT INTO appointment_types (name, duration_minutes, online_bookable)"
            " VALUES (%s, %s, %s)",
            (name, minutes, int(online)),
        )
        type_ids.append(int(cursor.lastrowid))
    cursor.executemany(
        "INSERT INTO provider_appointment_types (provider_id, appointment_type_id) VALUES (%s, %s)",
        [
            (provider_ids[p], type_ids[_TYPE_INDEX[t]])
            for p, (_, _, offered) in enumerate(_PROVIDERS)
            for t in offered
        ],
    )
    cursor.executemany(
        "INSERT INTO provider_hours (provider_id, weekday, start_time, end_time)"
        " VALUES (%s, %s, %s, %s)",
        [
            (provider_ids[p], weekday, start, end)
            for p, (_, hours, _) in enumerate(_PROVIDERS)
            for weekday, start, end in hours
        ],
    )
    cursor.executemany(
        "INSERT INTO provider_time_off (provider_id, starts_at, ends_at) VALUES (%s, %s, %s)",
        [(provider_ids[p], s, e) for p, periods in time_off.items() for s, e in periods],
    )
    cursor.executemany(
        "INSERT INTO patients"
        " (first_name, last_name, date_of_birth, email, home_zip, phone, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            (p.first_name, p.last_name, p.date_of_birth, p.email, p.home_zip, p.phone, p.created_at)
            for p in people
        ],
    )
    # The table was empty and this session alone inserted into it, so ids ascend in insertion
    # order (whatever auto_increment_increment is): the i-th id is the i-th patient.
    cursor.execute("SELECT id FROM patients ORDER BY id")
    patient_ids = [int(row[0] if isinstance(row, tuple) else row["id"]) for row in cursor]
    if len(patient_ids) != len(people):
        raise RuntimeError("patients changed while the demo was being seeded")
    # Placeholders only inside VALUES (...): that is what lets PyMySQL send one multi-row
    # INSERT instead of a round trip per appointment.
    cursor.executemany(
        "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
        " ends_at, status, source, late_cancel, cancelled_at, cancelled_by, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                patient_ids[a.patient],
                provider_ids[a.provider],
                type_ids[a.type],
                a.starts_at,
                a.ends_at,
                a.status,
                "office",
                int(a.late_cancel),
                a.cancelled_at,
                a.cancelled_by,
                a.created_at,
            )
            for a in appointments
        ],
    )


# -- patients ------------------------------------------------------------------------------


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII))
    return "".join(c for c in folded.lower() if "a" <= c <= "z") or "patient"


def _make_patients(rng: random.Random, count: int, now: datetime) -> list[_Patient]:
    first_dob = date(1930, 1, 1)
    last_dob = min(date(2024, 12, 31), now.date())
    people = []
    for number in range(1, count + 1):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        dob = first_dob + timedelta(days=rng.randrange((last_dob - first_dob).days + 1))
        registered = now - timedelta(minutes=rng.randrange(200 * 1440, 4000 * 1440))
        people.append(
            _Patient(
                first_name=first,
                last_name=last,
                date_of_birth=dob,
                email=f"{_ascii(first)}.{_ascii(last)}{number}@example.org",
                home_zip=rng.choice(_ZIPS),
                # 555-0100..0199 is the range reserved for fiction.
                phone=None if rng.random() < 0.1 else f"(617) 555-01{rng.randrange(100):02d}",
                created_at=min(now, max(registered, datetime.combine(dob, time(10)) + DAY)),
            )
        )
    order = list(range(count))
    rng.shuffle(order)
    # ~5% without email; ~5% sharing one with family (half of them joining the other half);
    # ~3% a second registration whose email differs only in case or spaces.
    no_email, family, variant = (round(count * share) for share in (0.05, 0.025, 0.03))
    regular = sorted(order[no_email + family + variant :])
    for i in order[:no_email]:
        people[i] = replace(people[i], email=None)
    if regular:
        # A parent and child, or a couple: one household address, one email, one last name.
        for i in order[no_email : no_email + family]:
            head = people[rng.choice(regular)]
            people[i] = replace(
                people[i],
                last_name=head.last_name,
                email=head.email,
                home_zip=head.home_zip,
                phone=head.phone,
            )
        # The same person registered twice, the address typed differently the second time.
        for i in order[no_email + family : no_email + family + variant]:
            original = people[rng.choice(regular)]
            assert original.email is not None
            people[i] = replace(
                original,
                email=_case_variant(rng, original.email),
                created_at=min(now, original.created_at + timedelta(days=rng.randrange(1, 400))),
            )
    for i in rng.sample(range(count), round(count * 0.05)):
        people[i] = replace(people[i], home_zip=None)
    return people


def _case_variant(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    titled = ".".join(part[:1].upper() + part[1:] for part in local.split("."))
    return rng.choice(
        (
            f"{titled}@{domain}",
            f"{local}@Example.org",
            f"{titled}@Example.org ",
            f" {email}",
            email.upper(),
            f"{email} ",
        )
    )


# -- schedule ------------------------------------------------------------------------------


def _utc(day: date, minute_of_day: int, tz: ZoneInfo) -> datetime | None:
    """A local wall time as naive UTC; None if the wall time does not exist (spring forward)."""
    local = datetime.combine(day, time()) + timedelta(minutes=minute_of_day)
    utc = local.replace(tzinfo=tz).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local:
        return None
    return utc.replace(tzinfo=None)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _time_off(now: datetime, tz: ZoneInfo) -> dict[int, list[tuple[datetime, datetime]]]:
    """Dr. Hart's vacation week three weeks out, and Dr. Okafor's Thursday afternoon off."""
    today = now.replace(tzinfo=UTC).astimezone(tz).date()
    monday = today + timedelta(days=21 - today.weekday())
    thursday = today + timedelta(days=7 + (3 - today.weekday()) % 7)
    periods = {
        0: (monday, 0, monday + timedelta(days=5), 0),
        1: (thursday, 12 * 60, thursday, 18 * 60),
    }
    result: dict[int, list[tuple[datetime, datetime]]] = {}
    for provider, (first_day, first_minute, last_day, last_minute) in periods.items():
        start = _utc(first_day, first_minute, tz) or _utc(first_day, first_minute + 60, tz)
        end = _utc(last_day, last_minute, tz) or _utc(last_day, last_minute + 60, tz)
        assert start is not None and end is not None
        result[provider] = [(start, end)]
    return result


def _overlaps(start: datetime, end: datetime, taken: list[tuple[datetime, datetime]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in taken)


def _make_appointments(
    rng: random.Random,
    people: list[_Patient],
    time_off: dict[int, list[tuple[datetime, datetime]]],
    now: datetime,
    tz: ZoneInfo,
) -> list[_Appointment]:
    book = _AppointmentBook(rng, len(people), now)
    today = now.replace(tzinfo=UTC).astimezone(tz).date()
    for provider, (_, hours, offered) in enumerate(_PROVIDERS):
        types = [_TYPE_INDEX[name] for name in offered]
        for offset in range(-DAYS_EACH_SIDE, DAYS_EACH_SIDE + 1):
            day = today + timedelta(days=offset)
            share = rng.uniform(0.27, 0.5)  # some days are quiet, some are full
            taken = list(time_off.get(provider, []))
            for weekday, start, end in hours:
                if weekday == day.weekday():
                    block = (_minutes(start), _minutes(end))
                    book.fill(provider, types, day, block, share, taken, tz)
    return book.appointments


class _AppointmentBook:
    """About 40% of each provider's working time booked, on the local quarter-hour grid,
    inside working hours, clear of time off, never two live appointments at once for one
    provider or one patient. Some cancelled slots went to someone else, as they do."""

    def __init__(self, rng: random.Random, patients: int, now: datetime) -> None:
        self.rng = rng
        self.now = now
        # A few patients come often, most rarely.
        self.weights = list(itertools.accumulate(rng.expovariate(1.0) for _ in range(patients)))
        self.busy: list[list[tuple[datetime, datetime]]] = [[] for _ in range(patients)]
        self.appointments: list[_Appointment] = []

    def fill(
        self,
        provider: int,
        types: list[int],
        day: date,
        block: tuple[int, int],
        share: float,
        taken: list[tuple[datetime, datetime]],
        tz: ZoneInfo,
    ) -> None:
        rng = self.rng
        block_start, block_end = block
        target = share * (block_end - block_start)
        booked = 0
        for _ in range(40):
            if booked >= target:
                break
            kind = rng.choices(types, weights=[_TYPES[t][3] for t in types])[0]
            length = _TYPES[kind][1]
            if booked + length > target + GRID or block_start + length > block_end:
                continue
            local = block_start + GRID * rng.randrange(
                (block_end - length - block_start) // GRID + 1
            )
            start, end = _utc(day, local, tz), _utc(day, local + length, tz)
            if start is None or end is None or end - start != timedelta(minutes=length):
                continue  # a daylight-saving change inside the appointment
            if _overlaps(start, end, taken):
                continue
            patient = self._patient(start, end)
            if patient is not None:
                taken.append((start, end))
                booked += length
                self._add(_with_status(rng, patient, provider, kind, start, end, self.now))

    def _patient(self, start: datetime, end: datetime, not_this: int = -1) -> int | None:
        for _ in range(6):
            index = self.rng.choices(range(len(self.busy)), cum_weights=self.weights)[0]
            if index != not_this and not _overlaps(start, end, self.busy[index]):
                return index
        return None

    def _add(self, appointment: _Appointment) -> None:
        self.appointments.append(appointment)
        if appointment.status != "cancelled":
            self.busy[appointment.patient].append((appointment.starts_at, appointment.ends_at))
        elif self.rng.random() < 0.5:
            self._refill(appointment)

    def _refill(self, cancelled: _Appointment) -> None:
        """Another patient takes (the start of) a cancelled slot, booked after it was freed."""
        rng = self.rng
        length = (cancelled.ends_at - cancelled.starts_at) // MINUTE
        offered = _PROVIDERS[cancelled.provider][2]
        fitting = [_TYPE_INDEX[n] for n in offered if _TYPES[_TYPE_INDEX[n]][1] <= length]
        kind = rng.choice(fitting)
        start = cancelled.starts_at
        end = start + timedelta(minutes=_TYPES[kind][1])
        patient = self._patient(start, end, not_this=cancelled.patient)
        if patient is None or cancelled.cancelled_at is None:
            return
        freed = cancelled.cancelled_at
        created = (freed + (min(start, self.now) - freed) * rng.random()).replace(microsecond=0)
        if start >= self.now:
            status = "booked"
        else:
            status = "completed" if rng.random() < 0.93 else "no_show"
        self._add(_Appointment(patient, cancelled.provider, kind, start, end, status, created))


def _with_status(
    rng: random.Random,
    patient: int,
    provider: int,
    kind: int,
    start: datetime,
    end: datetime,
    now: datetime,
) -> _Appointment:
    created = start - timedelta(minutes=rng.randrange(1440, 45 * 1440))
    if created >= now:
        created = now - timedelta(minutes=rng.randrange(60, 30 * 1440))
    roll = rng.random()
    if start < now:
        status = "completed" if roll < 0.82 else "no_show" if roll < 0.88 else "cancelled"
    else:
        status = "booked" if roll < 0.9 else "cancelled"
    appointment = _Appointment(patient, provider, kind, start, end, status, created)
    if status != "cancelled":
        return appointment
    latest = min(start, now)
    at = start - timedelta(minutes=rng.randrange(60, 10 * 1440))
    if at > latest:
        at = latest - timedelta(minutes=rng.randrange(0, 3 * 1440))
    if at <= created:
        span = max(1, (latest - created) // MINUTE)
        at = min(latest, created + timedelta(minutes=rng.randint(1, span)))
    by = "patient" if rng.random() < 0.75 else "staff"
    # A patient's cancellation inside the usual 24-hour fee window is marked for billing.
    late = by == "patient" and start - at < timedelta(hours=24)
    return replace(appointment, late_cancel=late, cancelled_at=at, cancelled_by=by)


DEMO_PASSWORD = "Portico demo visit 2026"


def create_demo_login(connection: Any, password_hash: str, *, now: datetime) -> str:
    """Give the first demo patient with an email and zip an active portal account, so the
    demo has a ready login. Returns the login email. Demo databases only: refuses when the
    patient already has an account."""
    from agent.access.identifiers import normalise_email

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.email FROM patients p"
            " LEFT JOIN portal_accounts a ON a.patient_id = p.id"
            " WHERE p.email IS NOT NULL AND p.home_zip IS NOT NULL AND a.id IS NULL"
            # The demo login should have something to show: upcoming and past visits.
            " ORDER BY (SELECT COUNT(*) FROM appointments x WHERE x.patient_id = p.id"
            " AND x.status = 'booked') DESC, p.id LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            raise DemoSeedRefused("no demo patient without an account is left")
        patient_id, email = (row["id"], row["email"]) if isinstance(row, dict) else row
        address = normalise_email(email)
        cursor.execute(
            "INSERT INTO portal_accounts (patient_id, email, login_email, password_hash,"
            " status, access_enabled, created_at, activated_at, password_changed_at)"
            " VALUES (%s, %s, %s, %s, 'active', 1, %s, %s, %s)",
            (patient_id, address, address, password_hash, *(3 * [now.replace(tzinfo=None)])),
        )
    connection.commit()
    return address
