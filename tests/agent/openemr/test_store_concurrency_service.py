"""50 patients booking one slot at once through BookingService on the OpenEMR store: exactly one
row per provider's slot (issue 13, "Must show"), with one provider named and with "No
preference" over two, in OpenEMR's sql_mode and a strict one."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from agent.booking.reads import BookingRules
from agent.booking.service import BookingService
from agent.caller import Caller
from agent.clock import FixedClock
from agent.errors import Refused
from tests.agent.openemr.writing import (
    NOW,
    OFFICE_VISIT,
    WORK_FACILITY,
    ZONE,
    Office,
    active_rows,
    open_office,
)
from tests.support.openemr.portal import OpenEMRPortal
from tests.support.openemr.recurrspec import WORKDAY, every
from tests.support.openemr.rows import (
    IN_OFFICE,
    OUT_OF_OFFICE,
    add_event,
    add_patient,
    add_provider,
)

RACERS = range(2001, 2051)  # pids of the 50 patients
TUESDAY_1030 = datetime(2026, 11, 3, 15, 30, tzinfo=UTC)  # 10:30 EST


def racing_office(pair: OpenEMRPortal) -> tuple[Office, int, BookingService]:
    """Dr. Grey's office (writing.py), a second provider with the same hours, 50 patients."""
    office = open_office(pair)
    db = office.openemr
    second = add_provider(db, username="cyang", fname="Cristina", lname="Yang")
    for category, start in ((IN_OFFICE, "9:00"), (OUT_OF_OFFICE, "17:00")):
        add_event(
            db,
            provider=second,
            category=category,
            day="2026-11-02",
            start=start,
            repeat=every(1, WORKDAY),
            until="2026-11-30",
            facility=WORK_FACILITY,
        )
    for pid in RACERS:
        add_patient(db, pid, fname=f"Racer{pid}", lname="Test")
    service = BookingService(office.store, BookingRules(), ZONE, FixedClock(NOW))
    return office, second, service


async def race(service: BookingService, provider: int | None) -> Counter[str]:
    async def one(pid: int) -> str:
        try:
            await service.book(Caller(pid), OFFICE_VISIT, provider, TUESDAY_1030, None)
            return "booked"
        except Refused as refused:
            return str(refused.code)

    return Counter(await asyncio.gather(*(one(pid) for pid in RACERS)))


async def test_fifty_bookings_of_one_providers_slot_make_one_row(
    openemr_portal: OpenEMRPortal,
) -> None:
    office, second, service = racing_office(openemr_portal)
    assert await race(service, office.provider) == {"booked": 1, "slot_unavailable": 49}
    rows = active_rows(office.openemr, office.provider)
    assert [(r["pc_eventDate"].isoformat(), str(r["pc_startTime"])) for r in rows] == [
        ("2026-11-03", "10:30:00")
    ]
    assert active_rows(office.openemr, second) == []


async def test_fifty_no_preference_bookings_make_one_row_per_provider(
    openemr_portal: OpenEMRPortal,
) -> None:
    office, second, service = racing_office(openemr_portal)
    assert await race(service, None) == {"booked": 2, "slot_unavailable": 48}
    for provider in (office.provider, second):
        rows = active_rows(office.openemr, provider)
        assert [str(r["pc_startTime"]) for r in rows] == ["10:30:00"]
    winners = [
        r["pc_pid"] for p in (office.provider, second) for r in active_rows(office.openemr, p)
    ]
    assert len(set(winners)) == 2
