"""The demo practice's book: its providers with their weekly hours, the appointment types they
offer, their time off, and about 40% of their working time booked over the 60 days either side
of now (past visits completed, missed or cancelled; upcoming ones booked or cancelled)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.demo.patients import Patient

GRID = 15  # appointments start on the quarter hour, local time, like an office's book
DAYS_EACH_SIDE = 60
MINUTE = timedelta(minutes=1)

# name, minutes, bookable online, how often the office books it
TYPES = (
    ("New patient visit", 60, True, 10),
    ("Follow-up", 30, True, 40),
    ("Annual physical", 45, True, 15),
    ("Quick check", 15, True, 20),
    ("Telehealth", 20, True, 15),
    ("Procedure", 90, False, 6),
)
TYPE_INDEX = {t[0]: i for i, t in enumerate(TYPES)}


def _week(days: tuple[int, ...], *blocks: tuple[str, str]) -> tuple[tuple[int, str, str], ...]:
    return tuple((day, start, end) for day in days for start, end in blocks)


_MON_FRI = (0, 1, 2, 3, 4)
_LUNCH_DAY = (("08:00", "12:00"), ("13:00", "17:00"))

# (display name, weekly hours as (weekday 0=Monday, local start, local end), types offered)
PROVIDERS: tuple[tuple[str, tuple[tuple[int, str, str], ...], tuple[str, ...]], ...] = (
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


@dataclass(frozen=True, slots=True)
class Appointment:
    patient: int  # index into the patient list
    provider: int  # index into PROVIDERS
    type: int  # index into TYPES
    starts_at: datetime  # UTC, naive
    ends_at: datetime
    status: str
    created_at: datetime
    late_cancel: bool = False
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None


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


def time_off_periods(now: datetime, tz: ZoneInfo) -> dict[int, list[tuple[datetime, datetime]]]:
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


def make_appointments(
    rng: random.Random,
    people: list[Patient],
    time_off: dict[int, list[tuple[datetime, datetime]]],
    now: datetime,
    tz: ZoneInfo,
) -> list[Appointment]:
    book = AppointmentBook(rng, len(people), now)
    today = now.replace(tzinfo=UTC).astimezone(tz).date()
    for provider, (_, hours, offered) in enumerate(PROVIDERS):
        types = [TYPE_INDEX[name] for name in offered]
        for offset in range(-DAYS_EACH_SIDE, DAYS_EACH_SIDE + 1):
            day = today + timedelta(days=offset)
            share = rng.uniform(0.27, 0.5)  # some days are quiet, some are full
            taken = list(time_off.get(provider, []))
            for weekday, start, end in hours:
                if weekday == day.weekday():
                    block = (_minutes(start), _minutes(end))
                    book.fill(provider, types, day, block, share, taken, tz)
    return book.appointments


class AppointmentBook:
    """About 40% of each provider's working time booked, on the local quarter-hour grid,
    inside working hours, clear of time off, never two live appointments at once for one
    provider or one patient. Some cancelled slots went to someone else, as they do."""

    def __init__(self, rng: random.Random, patients: int, now: datetime) -> None:
        self.rng = rng
        self.now = now
        # A few patients come often, most rarely.
        self.weights = list(itertools.accumulate(rng.expovariate(1.0) for _ in range(patients)))
        self.busy: list[list[tuple[datetime, datetime]]] = [[] for _ in range(patients)]
        self.appointments: list[Appointment] = []

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
            kind = rng.choices(types, weights=[TYPES[t][3] for t in types])[0]
            length = TYPES[kind][1]
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

    def _add(self, appointment: Appointment) -> None:
        self.appointments.append(appointment)
        if appointment.status != "cancelled":
            self.busy[appointment.patient].append((appointment.starts_at, appointment.ends_at))
        elif self.rng.random() < 0.5:
            self._refill(appointment)

    def _refill(self, cancelled: Appointment) -> None:
        """Another patient takes (the start of) a cancelled slot, booked after it was freed."""
        rng = self.rng
        length = (cancelled.ends_at - cancelled.starts_at) // MINUTE
        offered = PROVIDERS[cancelled.provider][2]
        fitting = [TYPE_INDEX[n] for n in offered if TYPES[TYPE_INDEX[n]][1] <= length]
        kind = rng.choice(fitting)
        start = cancelled.starts_at
        end = start + timedelta(minutes=TYPES[kind][1])
        patient = self._patient(start, end, not_this=cancelled.patient)
        if patient is None or cancelled.cancelled_at is None:
            return
        freed = cancelled.cancelled_at
        created = (freed + (min(start, self.now) - freed) * rng.random()).replace(microsecond=0)
        if start >= self.now:
            status = "booked"
        else:
            status = "completed" if rng.random() < 0.93 else "no_show"
        self._add(Appointment(patient, cancelled.provider, kind, start, end, status, created))


def _with_status(
    rng: random.Random,
    patient: int,
    provider: int,
    kind: int,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Appointment:
    created = start - timedelta(minutes=rng.randrange(1440, 45 * 1440))
    if created >= now:
        created = now - timedelta(minutes=rng.randrange(60, 30 * 1440))
    roll = rng.random()
    if start < now:
        status = "completed" if roll < 0.82 else "no_show" if roll < 0.88 else "cancelled"
    else:
        status = "booked" if roll < 0.9 else "cancelled"
    appointment = Appointment(patient, provider, kind, start, end, status, created)
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
