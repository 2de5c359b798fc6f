"""Booking contention: 50 patients booking one slot at once vs one booking at a time.

Issue 14's budget: with 50 concurrent bookings of one slot, the p99 answer time (the winner's
and the 49 refusals') is at most 5x the p99 of bookings made one at a time. Both are measured
in one run, through the real agent (its link, its services, its DB pool, MariaDB), on the small
practice of the tests; the ratio is what counts and nothing asserts a wall-clock time.

    .venv/bin/python -m bench.contention_bench [--quick] [--system portico|openemr]

The baseline books free slots one after another (each request alone in the agent); the
contended run books one slot per round with 50 patients at once, each round a new slot, and
takes the p99 over every request of every round. Uses the MariaDB the tests use
(PORTICO_TEST_DB_* or root@127.0.0.1:3306) and throwaway databases it drops afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from protocol.aio import RemoteError
from protocol.service.logs import configure_logging
from tests.support.database import configured_server, fresh_database
from tests.support.keys import make_keys
from tests.support.practice import (
    NOW,
    PATIENTS,
    TIMEZONE,
    RunningPractice,
    SmallPractice,
    running_practice,
    seed_small_practice,
)

CONTENDERS = 50
GOAL = 5.0


def free_slots() -> Iterator[datetime]:
    """30-minute starts on weekdays 09:00-16:30 New York, from two days after NOW (past the
    24 hours' notice) inside the 30-day horizon, as UTC instants."""
    zone = ZoneInfo(TIMEZONE)
    day = NOW.astimezone(zone).date() + timedelta(days=2)
    while True:
        if day.weekday() < 5:
            for half_hours in range(18, 34):
                local = datetime(day.year, day.month, day.day, tzinfo=zone)
                yield (local + timedelta(minutes=30 * half_hours)).astimezone(UTC)
        day += timedelta(days=1)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def book(practice: RunningPractice, patient: int, provider: int, start: datetime) -> str:
    try:
        await practice.call(
            "booking.book",
            patient=patient,
            appointment_type_id=practice.ids.FOLLOW_UP,
            provider_id=provider,
            start=start.isoformat().replace("+00:00", "Z"),
        )
        return "booked"
    except RemoteError as exc:
        return exc.code


async def timed(practice: RunningPractice, patient: int, provider: int, start: datetime) -> float:
    began = time.perf_counter()
    outcome = await book(practice, patient, provider, start)
    elapsed = time.perf_counter() - began
    if outcome not in ("booked", "slot_unavailable"):
        raise SystemExit(f"unexpected answer {outcome!r}")
    return elapsed


async def measure(practice: RunningPractice, alone: int, rounds: int) -> dict[str, Samples]:
    """Rounds of `alone` bookings one at a time, then 50 at once for one slot; the same for a
    signed-in read (booking.appointment_types), the floor: what 50 concurrent requests cost
    here whatever they do. Interleaved, so that the shared machine's load hits both alike."""
    ids = practice.ids
    adams, baker = ids.DR_ADAMS, ids.DR_BAKER
    # Every patient signs in (a session row) before anything is timed.
    for n in range(1, PATIENTS + 1):
        practice.session_for(ids.patient(n))
    slots = free_slots()
    patients = [ids.patient(n) for n in range(1, CONTENDERS + 1)]

    async def read(patient: int) -> float:
        began = time.perf_counter()
        await practice.call("booking.appointment_types", patient=patient)
        return time.perf_counter() - began

    # Warm the pool's connections and the agent's caches with one round of each kind.
    await timed(practice, ids.patient(1), baker, next(slots))
    await asyncio.gather(*(timed(practice, p, adams, next(slots)) for p in patients[:8]))
    await asyncio.gather(*(read(p) for p in patients))
    samples = Samples()
    for r in range(rounds):
        for i in range(alone):
            patient = patients[(r * alone + i) % CONTENDERS]
            samples.single.append(await timed(practice, patient, baker, next(slots)))
            samples.read_single.append(await read(patient))
        start = next(slots)

        async def one(patient: int, start: datetime = start) -> tuple[str, float]:
            began = time.perf_counter()
            outcome = await book(practice, patient, adams, start)
            return outcome, time.perf_counter() - began

        results = await asyncio.gather(*(one(p) for p in patients))
        samples.outcomes.update(outcome for outcome, _ in results)
        samples.contended.extend(elapsed for _, elapsed in results)
        samples.read_contended.extend(await asyncio.gather(*(read(p) for p in patients)))
    return samples


@dataclass
class Samples:
    single: list[float] = field(default_factory=list)
    contended: list[float] = field(default_factory=list)
    read_single: list[float] = field(default_factory=list)
    read_contended: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


@contextmanager
def practice_of(system: str) -> Iterator[SmallPractice]:
    server = configured_server()
    if system == "portico":
        with fresh_database(server, prefix="portico_bench_") as settings:
            seed_small_practice(settings)
            yield SmallPractice(settings)
        return
    from tests.support.openemr import STRICT_SQL_MODE
    from tests.support.openemr.portal import openemr_with_portal
    from tests.support.openemr.practice import OpenEMRSmallPractice, install_small_practice

    with openemr_with_portal(server, STRICT_SQL_MODE) as pair:
        ids = install_small_practice(pair.openemr)
        yield OpenEMRSmallPractice(pair.openemr, pair.portal, ids)


async def run(small: SmallPractice, keys: Path, alone: int, rounds: int) -> Samples:
    async with running_practice(small, keys) as practice:
        return await measure(practice, alone, rounds)


def line(what: str, single: list[float], contended: list[float], goal: str) -> str:
    base, ours = p99(single) * 1000, p99(contended) * 1000
    ratio = ours / base
    verdict = "(info)" if not goal else ("ok" if ratio <= GOAL else "MISSED")
    median = statistics.median(contended) / statistics.median(single)
    return (
        f"{what:<15} one at a time {base:6.1f}   {CONTENDERS} at once {ours:6.1f}"
        f"   {ratio:5.1f}x  {goal:<10} {verdict:<6}"
        f"  (p50 {statistics.median(single) * 1000:.1f} ms, ratio {median:4.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (3 rounds)")
    parser.add_argument("--system", choices=("portico", "openemr"), default="portico")
    parser.add_argument("--rounds", type=int, default=20, help="rounds (50 at once each)")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    alone = 10
    configure_logging("warning")
    with tempfile.TemporaryDirectory() as tmp, practice_of(args.system) as small:
        keys = make_keys(Path(tmp))
        samples = asyncio.run(run(small, keys, alone, rounds))
    print(
        f"system {args.system}; {rounds} rounds of {alone} bookings one at a time and "
        f"{CONTENDERS} at once for one slot; answers {dict(samples.outcomes)}"
    )
    print(line("booking p99 ms", samples.single, samples.contended, f"goal <= {GOAL:.0f}x"))
    print(line("read p99 ms", samples.read_single, samples.read_contended, ""))


if __name__ == "__main__":
    main()
