"""Availability benchmark: computing "No preference" slots vs fetching their rows, at several
densities and for the pages that ask.

Issue 14's budget: at every density up to 50 providers x 90 days, computing the slots costs at
most half of fetching the rows they come from (DESIGN.md's first budget was "no more than").
Each practice below is made in its own throwaway database; for each, the agent's own code is
timed on the same rows: the fetch is BookingReads._availability_rows (one transaction, as the
agent runs it) and the compute is agent.booking.availability.free_days (the answer's days,
labels included). The ratio is of medians; "cold" is one compute right after slots.py's
cached conversions of blocks to UTC are forgotten (an agent's first request for those days).
Nothing asserts a wall-clock time; the ratio is what counts.

Pages: "90 d" is the whole horizon in one go (the budget's case), "14 d" what the day list
asks (proxy DAYS_PER_PAGE), "1 d" what the time page asks (one day, ten days out).

    .venv/bin/python -m bench.availability_bench [--repeat N] [--quick]   (from the repo root)

Uses the MariaDB the tests use (PORTICO_TEST_DB_* or root@127.0.0.1:3306) and throwaway
databases it drops afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.booking.availability import free_days
from agent.booking.reads import DAY_MINUTES, BookingReads, BookingRules
from agent.booking.slots import (
    _transition_block_starts,
    _usual_block,
    booking_window,
    from_minute,
    to_minute,
)
from agent.clock import FixedClock
from agent.store.portico.booking import PorticoBooking
from tests.support.database import configured_server, connect, fresh_database

HORIZON = 90
STEP = 15
DURATION = 30
TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# (providers, appointments): sparse (about 0.25-2.5 a provider a working day) and dense
# (about 6.5 a provider a working day, the density of DESIGN.md's 20 x 10,000 case).
DENSITIES = [(5, 1_000), (5, 2_500), (20, 1_000), (20, 10_000), (50, 1_000), (50, 25_000)]
PAGES = [("90 d", None, HORIZON), ("14 d", None, 14), ("1 d", 10, 1)]
GOAL = 0.5


def _fill(cursor: Any, rng: random.Random, providers: int, appointments: int) -> None:
    cursor.executemany(
        "INSERT INTO providers (id, display_name) VALUES (%s, %s)",
        [(p, f"Provider {p}") for p in range(1, providers + 1)],
    )
    cursor.execute(
        "INSERT INTO appointment_types (id, name, duration_minutes) VALUES (1, 'Visit', %s)",
        (DURATION,),
    )
    cursor.executemany(
        "INSERT INTO provider_appointment_types VALUES (%s, 1)",
        [(p,) for p in range(1, providers + 1)],
    )
    cursor.executemany(
        "INSERT INTO provider_hours (provider_id, weekday, start_time, end_time)"
        " VALUES (%s, %s, %s, %s)",
        [
            (p, d, start, end)
            for p in range(1, providers + 1)
            for d in range(6)
            for start, end in (("08:00", "12:00"), ("13:00", "18:00"))
        ],
    )
    cursor.executemany(
        "INSERT INTO patients (id, first_name, last_name, date_of_birth)"
        " VALUES (%s, 'A', 'B', '1980-01-01')",
        [(i,) for i in range(1, 501)],
    )
    # Spread over the horizon, on the grid, inside working hours, no provider double-booked.
    taken: set[tuple[int, datetime]] = set()
    rows = []
    first = NOW.astimezone(TZ).date() + timedelta(days=1)
    minutes = [*range(8 * 60, 11 * 60 + 31, STEP), *range(13 * 60, 17 * 60 + 31, STEP)]
    while len(rows) < appointments:
        provider = rng.randint(1, providers)
        day = first + timedelta(days=rng.randrange(HORIZON))
        if day.weekday() == 6:
            continue
        local = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(
            minutes=rng.choice(minutes)
        )
        start = local.replace(tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)
        if any((provider, start + timedelta(minutes=d)) in taken for d in (-15, 0, 15)):
            continue
        taken.add((provider, start))
        rows.append((rng.randint(2, 500), provider, start, start + timedelta(minutes=DURATION)))
    cursor.executemany(
        "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
        " ends_at) VALUES (%s, %s, 1, %s, %s)",
        rows,
    )


def _measure(cursor: Any, offset: int | None, days: int, repeat: int) -> tuple[float, float, Any]:
    """Median fetch and compute (ms) of one availability page, as BookingReads.availability
    asks them (same window, days and span), for patient 1 and No preference; and the compute
    of a first run with cold caches (ms), the busy rows and the starts offered."""
    reads = BookingReads(
        PorticoBooking(),  # type: ignore[arg-type]  # only its row methods are used here
        BookingRules(horizon_days=HORIZON, min_notice_hours=0, round_to_minutes=STEP),
        TZ,
        FixedClock(NOW),
    )
    window = booking_window(NOW, 0, HORIZON)
    today = from_minute(window.earliest).astimezone(TZ).date()
    first_day = today if offset is None else today + timedelta(days=offset)
    last_day = first_day + timedelta(days=days - 1)
    start = to_minute(datetime.combine(first_day, datetime.min.time(), TZ)) - DAY_MINUTES
    span = (start, start + (days + 2) * DAY_MINUTES)
    fetches, computes = [], []
    cold = 0.0
    answer: list[dict[str, Any]] = []
    rows: Any = None
    for attempt in range(repeat + 1):
        if attempt == 0:  # the first, with slots.py's conversions of blocks to UTC forgotten
            _usual_block.cache_clear()
            _transition_block_starts.cache_clear()
        began = time.perf_counter()
        rows = reads._availability_rows(cursor, 1, None, 1, None, (first_day, last_day), span)
        cursor.connection.commit()
        fetched = time.perf_counter()
        _atype, providers, hours, busy, own = rows
        answer = free_days(
            providers=[p.id for p in providers],
            hours=hours,
            busy=busy,
            own=own,
            tz=TZ,
            duration=DURATION,
            step=STEP,
            window=window,
            first_day=first_day,
            last_day=last_day,
            provider_id=None,
        )
        computed = time.perf_counter()
        if attempt == 0:
            cold = computed - fetched
        else:
            fetches.append(fetched - began)
            computes.append(computed - fetched)
    busy_rows = sum(len(v) for v in rows[3].values())
    slots = sum(len(d["slots"]) for d in answer)
    return (
        statistics.median(fetches) * 1000,
        statistics.median(computes) * 1000,
        (cold * 1000, busy_rows, slots),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="measurements of each (median)")
    parser.add_argument("--quick", action="store_true", help="the smallest density only")
    args = parser.parse_args()
    densities = DENSITIES[:1] if args.quick else DENSITIES
    print(
        f"No preference, {DURATION}-minute type, {STEP}-minute grid, {HORIZON}-day horizon; "
        f"median of {args.repeat}; ratio = compute / fetch, goal <= {GOAL}"
    )
    print(
        f"{'providers':>9} {'appts':>7} {'page':>5} {'busy rows':>9} {'starts':>7}"
        f" {'fetch ms':>9} {'compute ms':>10} {'ratio':>6}  {'cold compute ms':>15}"
    )
    worst = 0.0
    for providers, appointments in densities:
        with fresh_database(configured_server(), prefix="portico_bench_") as settings:
            connection = connect(settings, dict_rows=True, autocommit=False)
            with connection.cursor() as cursor:
                _fill(cursor, random.Random(1), providers, appointments)
                connection.commit()
                for page, offset, days in PAGES:
                    fetch_ms, compute_ms, (cold_ms, busy_rows, slots) = _measure(
                        cursor, offset, days, args.repeat
                    )
                    ratio = compute_ms / fetch_ms
                    worst = max(worst, ratio)
                    print(
                        f"{providers:>9} {appointments:>7,} {page:>5} {busy_rows:>9,}"
                        f" {slots:>7,} {fetch_ms:>9.1f} {compute_ms:>10.1f} {ratio:>6.2f}"
                        f"  {cold_ms:>15.1f}  {'ok' if ratio <= GOAL else 'MISSED'}"
                    )
            connection.close()
    print(f"worst ratio {worst:.2f}   goal <= {GOAL}   {'ok' if worst <= GOAL else 'MISSED'}")


if __name__ == "__main__":
    main()
