"""The practice's MariaDB server is stopped (SIGTERM) and started again under a steady stream
of patient requests: meanwhile every answer is `unavailable`, promptly (never an internal error,
never a wait past the request's deadline); afterwards everything works again by itself and
the bookings made before are all there."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protocol.aio import RemoteError
from tests.agent.faults.ledger import double_booked, half_written, portal_appointments
from tests.agent.faults.private_mariadb import private_mariadb
from tests.support.daemons import PATIENCE
from tests.support.practice import (
    DR_ADAMS,
    FOLLOW_UP,
    RunningPractice,
    running_practice,
)

DEADLINE = 5.0  # seconds each request allows (the proxy's pages allow 10)
WORKERS = 6  # patients asking at once, again and again
ENOUGH = 30  # answers to see in a phase before moving on
BEFORE = ["2026-11-25T15:00:00Z", "2026-11-25T15:30:00Z", "2026-11-25T16:00:00Z"]
AFTER = "2026-11-26T15:00:00Z"


@dataclass(frozen=True)
class Answer:
    phase: str  # what the server was doing from sending to answer ("" if that changed)
    outcome: str  # "ok" or the error code
    seconds: float


@dataclass
class SteadyLoad:
    """WORKERS signed-in patients loading their appointments and the providers, nonstop."""

    practice: RunningPractice
    phase: str = "up"
    answers: list[Answer] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        sessions = [self.practice.session_for(p) for p in range(1, WORKERS + 1)]
        await asyncio.gather(*(self._patient(session, stop) for session in sessions))

    async def _patient(self, session: str, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        calls = [
            ("appointments.list", {}),
            ("booking.providers", {"appointment_type_id": FOLLOW_UP}),
        ]
        turn = 0
        while not stop.is_set():
            method, params = calls[turn % 2]
            turn += 1
            phase, sent = self.phase, loop.time()
            try:
                await self.practice.client.request(
                    method, params, session=session, deadline=DEADLINE
                )
                outcome = "ok"
            except RemoteError as exc:
                outcome = exc.code
            phase = phase if phase == self.phase else ""
            self.answers.append(Answer(phase, outcome, loop.time() - sent))
            await asyncio.sleep(0.01)  # a steady stream, not a busy loop

    def outcomes(self, phase: str) -> Counter[str]:
        return Counter(a.outcome for a in self.answers if a.phase == phase)

    async def until(self, phase: str, outcome: str | None = None) -> None:
        """Wait for ENOUGH answers sent and received in `phase` (with that outcome, if given)."""

        def seen() -> int:
            counts = self.outcomes(phase)
            return counts[outcome] if outcome else sum(counts.values())

        async with asyncio.timeout(PATIENCE):
            while seen() < ENOUGH:
                await asyncio.sleep(0.02)


async def book(practice: RunningPractice, patient: int, start: str) -> dict[str, Any]:
    params = {"appointment_type_id": FOLLOW_UP, "provider_id": DR_ADAMS, "start": start}
    result: dict[str, Any] = await practice.client.request(
        "booking.book",
        params,
        session=practice.session_for(patient),
        idempotency_key=f"restart-{patient}-{start}",
        deadline=DEADLINE,
    )
    return result


async def test_mariadb_restart_under_load_is_unavailable_then_recovers(
    link_keys: Path, tmp_path: Path
) -> None:
    with private_mariadb(tmp_path / "mariadb") as mariadb:
        settings = mariadb.small_practice()
        async with running_practice(settings, link_keys) as practice:
            before = [await book(practice, p, s) for p, s in enumerate(BEFORE, start=1)]
            load, stop = SteadyLoad(practice), asyncio.Event()
            running = asyncio.create_task(load.run(stop))
            try:
                await load.until("up", "ok")
                load.phase = "stopping"
                await asyncio.to_thread(mariadb.stop)  # SIGTERM, and wait until it exited
                load.phase = "down"
                await load.until("down")
                load.phase = "starting"
                await asyncio.to_thread(mariadb.start)  # same data directory, same port
                load.phase = "after"
                await load.until("after", "ok")
            finally:
                stop.set()
                await running
            after = await book(practice, 4, AFTER)
            listed = await practice.call("appointments.list", patient=1)

        every = Counter(a.outcome for a in load.answers)
        assert set(every) <= {"ok", "unavailable"}, every  # no internal, no deadline_exceeded
        slowest = max(a.seconds for a in load.answers)
        assert slowest < DEADLINE, f"an answer took {slowest:.1f} s"
        assert load.outcomes("up") == {"ok": sum(load.outcomes("up").values())}
        down = load.outcomes("down")
        assert down == {"unavailable": sum(down.values())}, down
        tail = [a.outcome for a in load.answers[-2 * WORKERS :]]
        assert tail == ["ok"] * len(tail), "not every patient got answers again"

        on_file = portal_appointments(settings)
        assert {b["id"] for b in before} | {after["id"]} == set(on_file)
        assert [a["id"] for a in listed["upcoming"]] == [before[0]["id"]]
        assert half_written(settings) == []
        assert double_booked(settings) == []

    print(
        f"\nMariaDB restart under load ({WORKERS} patients, deadline {DEADLINE:.0f} s): "
        + "; ".join(
            f"{phase or 'across a change'} {dict(load.outcomes(phase))}"
            for phase in ("up", "stopping", "down", "starting", "after", "")
        )
        + f"; slowest answer {slowest * 1000:.0f} ms; {len(before)} earlier bookings all on file,"
        " a new one booked after recovery"
    )
