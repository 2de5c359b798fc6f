"""The agent process is SIGKILLed while 100 bookings are in flight.

Every booking a patient was told about exists, none is half-written, no provider's time is
taken twice; after a restart the proxy that was running all along serves pages again by itself,
and each booking whose answer was lost can be sent again with its idempotency key (as the
proxy's form does) without booking anything twice.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient, RemoteError
from proxy.security import SESSION_COOKIE
from tests.agent.faults.ledger import double_booked, half_written, portal_appointments
from tests.agent.faults.real_clock import bookable_starts, sessions_for
from tests.proxy.agent_fixtures import ProxySetup
from tests.proxy.portal import Browser, proxy_config, serve_proxy
from tests.support.daemons import PATIENCE, Daemon, agent_yaml, link_to
from tests.support.ports import free_port
from tests.support.practice import DR_ADAMS, DR_BAKER, FOLLOW_UP, PATIENTS

REQUESTS = 100
STARTS = 25  # x 2 providers: 50 slots, each asked for by two different patients
KILL_AFTER_ANSWERS = 10  # the rest are queued, running or committing when the agent dies
LINK_LOST = "unavailable"  # what LinkClient raises for a request the dead link cut off


@dataclass(frozen=True)
class Booking:
    patient: int
    provider: int
    start: str
    key: str

    @property
    def slot(self) -> tuple[int, str]:
        return self.provider, self.start


def planned_bookings() -> list[Booking]:
    starts = bookable_starts(STARTS)
    bookings = [
        Booking(
            patient=i % PATIENTS + 1,
            provider=(DR_ADAMS, DR_BAKER)[i % 2],
            start=starts[i // 2 % STARTS],  # i and i + 50 want the same slot
            key=f"fault-booking-{i}",
        )
        for i in range(REQUESTS)
    ]
    random.Random(7).shuffle(bookings)
    return bookings


async def book(client: LinkClient, session: str, booking: Booking) -> dict[str, Any] | str:
    """The appointment, or the error code."""
    params = {
        "appointment_type_id": FOLLOW_UP,
        "provider_id": booking.provider,
        "start": booking.start,
    }
    try:
        result: dict[str, Any] = await client.request(
            "booking.book", params, session=session, idempotency_key=booking.key, deadline=30
        )
    except RemoteError as exc:
        return exc.code
    return result


async def until_page_served(browser: Browser) -> int:
    """Poll /appointments until the proxy serves it again; the pages refused meanwhile."""
    refused = 0
    async with asyncio.timeout(PATIENCE):
        while (page := await browser.get("/appointments")).status != 200:
            assert page.status == 503, (page.status, page.visible_text)
            refused += 1
            await asyncio.sleep(0.1)
    assert "My appointments" in page.visible_text  # still signed in: the session lives on
    return refused


async def book_all_killing_midway(
    agent: Daemon, client: LinkClient, sessions: dict[int, str], bookings: list[Booking]
) -> list[dict[str, Any] | str]:
    """Send every booking at once; SIGKILL the agent when the KILL_AFTER_ANSWERS-th answer
    arrives. The outcomes, in the order of `bookings`."""
    answers = 0

    async def book_until_killed(booking: Booking) -> dict[str, Any] | str:
        nonlocal answers
        outcome = await book(client, sessions[booking.patient], booking)
        answers += 1
        if answers == KILL_AFTER_ANSWERS:
            agent.send_sigkill()  # right here, with the others queued, running or committing
        return outcome

    outcomes = await asyncio.gather(*(book_until_killed(b) for b in bookings))
    assert await agent.exited() == -signal.SIGKILL
    return outcomes


def assert_nothing_lost(settings: DatabaseSettings, confirmed: dict[Booking, int]) -> None:
    on_file = portal_appointments(settings)
    for booking, appointment in confirmed.items():
        row = on_file.get(appointment)
        assert row is not None, f"appointment {appointment} was confirmed, is not on file"
        assert row["status"] == "booked"
        assert (row["patient_id"], row["provider_id"]) == (booking.patient, booking.provider)
    assert half_written(settings) == []
    assert double_booked(settings) == []


async def test_sigkill_during_100_bookings_loses_nothing_and_the_proxy_recovers(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    bookings = planned_bookings()
    sessions = sessions_for(practice_db, range(1, PATIENTS + 1))
    port = free_port()
    agent = Daemon.agent(agent_yaml(tmp_path, practice_db, link_keys, port), port)
    await agent.start()
    try:
        config = proxy_config(ProxySetup(link_keys, tmp_path), port, metrics={"enabled": False})
        async with serve_proxy(config) as web:
            browser = Browser(web)
            browser.cookies[SESSION_COOKIE] = sessions[1]
            assert (await browser.get("/appointments")).status == 200

            client = await link_to(agent, link_keys)
            first = await book_all_killing_midway(agent, client, sessions, bookings)
            await client.close()
            codes = Counter("booked" if isinstance(o, dict) else o for o in first)
            assert set(codes) <= {"booked", "slot_unavailable", LINK_LOST}, codes
            assert codes[LINK_LOST] > 0, "every booking was answered before the kill"
            confirmed = {
                b: o["id"] for b, o in zip(bookings, first, strict=True) if isinstance(o, dict)
            }
            at_kill = set(portal_appointments(practice_db))
            assert_nothing_lost(practice_db, confirmed)

            down = await browser.get("/appointments")
            assert down.status == 503 and "+1 555 0100" in down.visible_text

            restarted = time.monotonic()
            await agent.start()  # same port, same config: what systemd's Restart= does
            refused = await until_page_served(browser)
            recovery = time.monotonic() - restarted

            client = await link_to(agent, link_keys)
            cut_off = [b for b, o in zip(bookings, first, strict=True) if o == LINK_LOST]
            again = await asyncio.gather(*(book(client, sessions[b.patient], b) for b in cut_off))
            await client.close()
    finally:
        await agent.stop()

    retried = Counter("booked" if isinstance(o, dict) else o for o in again)
    replayed = sum(1 for o in again if isinstance(o, dict) and o["id"] in at_kill)
    assert set(retried) <= {"booked", "slot_unavailable"}, retried
    confirmed.update(
        {b: o["id"] for b, o in zip(cut_off, again, strict=True) if isinstance(o, dict)}
    )
    assert_nothing_lost(practice_db, confirmed)
    # Each slot was asked for twice and now has its one appointment, told to one patient.
    on_file = portal_appointments(practice_db)
    assert sorted(on_file) == sorted(confirmed.values())
    # Ids are handed out by the INSERT and not given back by a rollback: the unused ones are
    # appointments the kill interrupted inside their transaction, and left no trace of.
    interrupted = max(on_file) - len(on_file)
    assert Counter(b.slot for b in confirmed) == Counter({b.slot: 1 for b in bookings})
    print(
        f"\nSIGKILL mid-booking: {REQUESTS} bookings for {len(set(b.slot for b in bookings))}"
        f" slots; before the kill {codes['booked']} confirmed, {codes['slot_unavailable']}"
        f" refused, {codes[LINK_LOST]} cut off; {len(at_kill)} on file after the kill,"
        f" {interrupted} rolled back mid-transaction (0 half-written, 0 double-booked);"
        f" proxy served pages again {recovery:.1f} s after"
        f" the restart began ({refused} 'call us' pages meanwhile, no proxy restart); cut-off"
        f" bookings sent again with their keys: {replayed} replayed (committed, answer lost),"
        f" {retried['booked'] - replayed} booked now,"
        f" {retried['slot_unavailable']} refused; {len(on_file)} appointments, one per slot"
    )
