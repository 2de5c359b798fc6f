"""Availability benchmark: computing "No preference" slots vs fetching their rows.

DESIGN.md budget: for 20 providers x 90 days on a 15-minute grid with 10,000 existing
appointments, computing the slots costs no more than fetching the rows it needs from
MariaDB. Both are measured here in one run, on the same rows; the ratio is what counts and
nothing asserts a wall-clock time.

    .venv/bin/python -m bench.availability_bench [--repeat N]   (from the repo root)

Uses the MariaDB the tests use (PORTICO_TEST_DB_* or root@127.0.0.1:3306) and a throwaway
database it drops afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.booking.slots import booking_window, from_minute, merge_intervals, provider_slots
from agent.store.portico.booking import PorticoBooking
from tests.support.database import configured_server, connect, fresh_database

PROVIDERS = 20
DAYS = 90
APPOINTMENTS = 10_000
STEP = 15
DURATION = 30
TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _fill(cursor: Any, rng: random.Random) -> None:
    cursor.executemany(
        "INSERT INTO providers (id, display_name) VALUES (%s, %s)",
        [(p, f"Provider {p}") for p in range(1, PROVIDERS + 1)],
    )
    cursor.execute(
        "INSERT INTO appointment_types (id, name, duration_minutes) VALUES (1, 'Visit', %s)",
        (DURATION,),
    )
    cursor.executemany(
        "INSERT INTO provider_appointment_types VALUES (%s, 1)",
        [(p,) for p in range(1, PROVIDERS + 1)],
    )
    cursor.executemany(
        "INSERT INTO provider_hours (provider_id, weekday, start_time, end_time)"
        " VALUES (%s, %s, %s, %s)",
        [
            (p, d, start, end)
            for p in range(1, PROVIDERS + 1)
            for d in range(6)
            for start, end in (("08:00", "12:00"), ("13:00", "18:00"))
        ],
    )
    cursor.executemany(
        "INSERT INTO patients (id, first_name, last_name, date_of_birth)"
        " VALUES (%s, 'A', 'B', '1980-01-01')",
        [(i,) for i in range(1, 501)],
    )
    # 10,000 appointments spread over the horizon, on the grid, inside working hours, no
    # provider double-booked.
    taken: set[tuple[int, datetime]] = set()
    rows = []
    first = NOW.astimezone(TZ).date() + timedelta(days=1)
    while len(rows) < APPOINTMENTS:
        provider = rng.randint(1, PROVIDERS)
        day = first + timedelta(days=rng.randrange(DAYS))
        if day.weekday() == 6:
            continue
        minute = rng.choice(
            [*range(8 * 60, 11 * 60 + 31, STEP), *range(13 * 60, 17 * 60 + 31, STEP)]
        )
        local = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(minutes=minute)
        start = local.replace(tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)
        if any((provider, start + timedelta(minutes=d)) in taken for d in (-15, 0, 15)):
            continue
        taken.add((provider, start))
        rows.append((rng.randint(1, 500), provider, start, start + timedelta(minutes=DURATION)))
    cursor.executemany(
        "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
        " ends_at) VALUES (%s, %s, 1, %s, %s)",
        rows,
    )


def _fetch(
    cursor: Any, start: int, end: int, first_day: date, last_day: date
) -> tuple[Any, Any, Any]:
    """Exactly what BookingService.availability asks the practice store for."""
    store = PorticoBooking()
    providers = store.providers(cursor, 1, None)
    ids = [p.id for p in providers]
    return (
        providers,
        store.working_hours(cursor, ids, first_day, last_day),
        store.busy_intervals(cursor, ids, start, end),
    )


def _compute(providers: Any, hours: Any, busy: Any, first_day: date, last_day: date) -> int:
    """What BookingService.availability computes: every provider's busy time merged (the
    store returns it unmerged), then every provider's slots, merged by time."""
    window = booking_window(NOW, 0, DAYS)
    free: dict[int, list[int]] = {}
    for provider in providers:
        for minute in provider_slots(
            hours=hours.get(provider.id, []),
            busy=merge_intervals(busy.get(provider.id, [])),
            tz=TZ,
            duration=DURATION,
            step=STEP,
            window=window,
            first_day=first_day,
            last_day=last_day,
        ):
            free.setdefault(minute, []).append(provider.id)
    days: dict[date, int] = {}
    for minute in sorted(free):
        local_day = from_minute(minute).astimezone(TZ).date()
        days[local_day] = days.get(local_day, 0) + 1
    return len(free)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="measurements of each (median)")
    args = parser.parse_args()
    with fresh_database(configured_server(), prefix="portico_bench_") as settings:
        connection = connect(settings, dict_rows=True)
        with connection.cursor() as cursor:
            _fill(cursor, random.Random(1))
        first_day = NOW.astimezone(TZ).date()
        last_day = first_day + timedelta(days=DAYS)
        start = int(NOW.timestamp()) // 60 - 24 * 60
        end = start + (DAYS + 2) * 24 * 60
        fetch_times, compute_times = [], []
        slots = 0
        for _ in range(args.repeat):
            began = time.perf_counter()
            with connection.cursor() as cursor:
                rows = _fetch(cursor, start, end, first_day, last_day)
            fetched = time.perf_counter()
            slots = _compute(*rows, first_day, last_day)
            computed = time.perf_counter()
            fetch_times.append(fetched - began)
            compute_times.append(computed - fetched)
        busy_rows = sum(len(v) for v in rows[2].values())
        fetch_ms = statistics.median(fetch_times) * 1000
        compute_ms = statistics.median(compute_times) * 1000
        print(
            f"{PROVIDERS} providers x {DAYS} days, {STEP}-minute grid, {APPOINTMENTS:,} "
            f"appointments; No preference, {DURATION}-minute type"
        )
        print(
            f"rows fetched: {busy_rows:,} busy intervals (unmerged), "
            f"{sum(len(v) for v in rows[1].values())} hour blocks; {slots:,} distinct start times"
        )
        print(f"median of {args.repeat}:")
        print(f"  fetch rows from MariaDB (baseline)  {fetch_ms:8.1f} ms")
        print(f"  compute slots                       {compute_ms:8.1f} ms")
        print(f"  ratio compute/fetch                 {compute_ms / fetch_ms:8.2f}   goal <= 1.0")
        connection.close()


if __name__ == "__main__":
    main()
