"""Race-freedom of the OpenEMR store without changing OpenEMR's schema (issue 13, item 5):
named locks held until the transaction has ended, and the re-check after insert that catches
a row OpenEMR's own screens (which take no lock) commit between Portico's check and insert."""

from __future__ import annotations

from typing import Any

import pytest

from agent.db import Database
from agent.errors import Refused
from agent.store.base import SlotTaken, Tx
from protocol.errors import ErrorCode
from tests.agent.openemr.writing import (
    OFFICE_VISIT,
    OTHER_PATIENT,
    PATIENT,
    TUESDAY_1030,
    active_rows,
    open_office,
)
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.portal import OpenEMRPortal
from tests.support.openemr.rows import OUT_OF_OFFICE, add_event

LUNCH, CLOSED = 8, 7

# Rows staff save in OpenEMR while a Portico booking of Tuesday 3 November 10:30-10:45 (EST)
# is between its check and its INSERT: (what, row keywords for add_event, still bookable).
AROUND_THE_LOCK = {
    "same time, another patient": (
        dict(category=OFFICE_VISIT, start="10:30", minutes=15, patient=OTHER_PATIENT),
        False,
    ),
    "overlapping the end": (
        dict(category=OFFICE_VISIT, start="10:40", minutes=30, patient=OTHER_PATIENT),
        False,
    ),
    "provider leaves at 10:00": (dict(category=OUT_OF_OFFICE, start="10:00"), False),
    "clinic closed all day": (dict(category=CLOSED, all_day=True, provider=0), False),
    "right after it": (
        dict(category=OFFICE_VISIT, start="10:45", minutes=15, patient=OTHER_PATIENT),
        True,
    ),
    "lunch at noon": (dict(category=LUNCH, start="12:00", minutes=60), True),
    "cancelled at that time": (
        dict(category=OFFICE_VISIT, start="10:30", minutes=15, patient=OTHER_PATIENT, status="x"),
        True,
    ),
}


@pytest.mark.parametrize(("row", "bookable"), AROUND_THE_LOCK.values(), ids=AROUND_THE_LOCK)
async def test_a_row_committed_between_check_and_insert_is_caught_by_the_recheck(
    openemr_portal: OpenEMRPortal, row: dict[str, Any], bookable: bool
) -> None:
    office = open_office(openemr_portal)
    store = office.store
    staff: list[int] = []

    def staff_saves(tx: Tx) -> None:
        # Another connection, autocommit, no lock: OpenEMR's calendar dialog.
        fields = {"provider": office.provider, "day": "2026-11-03", **row}
        staff.append(add_event(office.openemr, **fields))

    store.before_insert = staff_saves

    def book(tx: Tx) -> int:
        assert store.lock_patient(tx, PATIENT)
        return store.insert_appointment(
            tx, PATIENT, office.provider, OFFICE_VISIT, TUESDAY_1030, 15
        )

    if bookable:
        eid = await store.transaction(book)
        mine = [r["pc_eid"] for r in active_rows(office.openemr, office.provider)]
        assert eid in mine
    else:
        with pytest.raises(SlotTaken):
            await store.transaction(book)
        # Rolled back: the patient's row is gone, the staff row stays.
        assert (
            office.openemr.query(
                "SELECT pc_eid FROM openemr_postcalendar_events WHERE pc_pid = %s", (str(PATIENT),)
            )
            == []
        )
        assert len(staff) == 1


async def test_the_same_booking_goes_through_when_nothing_is_written_around_the_lock(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal)
    calls: list[Tx] = []
    office.store.before_insert = calls.append

    def book(tx: Tx) -> int:
        return office.store.insert_appointment(
            tx, PATIENT, office.provider, OFFICE_VISIT, TUESDAY_1030, 15
        )

    eid = await office.store.transaction(book)
    assert len(calls) == 1
    assert [r["pc_eid"] for r in active_rows(office.openemr, office.provider)] == [eid]


def lock_is_free(db: OpenEMRDatabase, name: str) -> bool:
    return bool(db.query("SELECT IS_FREE_LOCK(%s) AS free", (name,))[0]["free"])


async def test_named_locks_are_held_until_commit_and_released_after_it(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal)
    # Written by hand: the practice database's name, then what is locked.
    name = f"portico:{office.openemr.settings.name}:patient:{PATIENT}"
    seen_inside: list[bool] = []

    def change(tx: Tx) -> None:
        assert office.store.lock_patient(tx, PATIENT)
        seen_inside.append(lock_is_free(office.openemr, name))

    await office.store.transaction(change)
    assert seen_inside == [False]
    assert lock_is_free(office.openemr, name)


async def test_named_locks_are_released_after_a_rollback(openemr_portal: OpenEMRPortal) -> None:
    office = open_office(openemr_portal)
    name = f"portico:{office.openemr.settings.name}:patient:{PATIENT}"

    def change(tx: Tx) -> None:
        office.store.lock_patient(tx, PATIENT)
        assert not lock_is_free(office.openemr, name)
        raise Refused(ErrorCode.SLOT_UNAVAILABLE, "gone")

    with pytest.raises(Refused):
        await office.store.transaction(change)
    assert lock_is_free(office.openemr, name)


async def test_locks_taken_in_a_transaction_opened_on_the_pool_are_released_too(
    openemr_portal: OpenEMRPortal,
) -> None:
    """Access opens its transactions on the pool, not through the store, and reads the patient
    with lock=True (sign-in counts every guess under it): its named lock must not outlive the
    transaction either, or the patient's next sign-in waits for a lock nobody releases."""
    office = open_office(openemr_portal)
    name = f"portico:{office.openemr.settings.name}:patient:{PATIENT}"
    seen_inside: list[bool] = []

    def sign_in_like(tx: Tx) -> None:
        assert office.store.patient(tx, PATIENT, lock=True) is not None
        seen_inside.append(lock_is_free(office.openemr, name))

    for _ in range(2):  # the second would wait for the first's lock if it were kept
        await office.store.db.transaction(sign_in_like)
    assert seen_inside == [False, False]
    assert lock_is_free(office.openemr, name)


async def test_a_lock_held_elsewhere_refuses_as_busy_without_a_traceback(
    openemr_portal: OpenEMRPortal,
) -> None:
    office = open_office(openemr_portal)
    office.store.lock_wait_seconds = 0  # GET_LOCK answers at once: no waiting in the test
    name = f"portico:{office.openemr.settings.name}:patient:{PATIENT}"
    holder = office.openemr.connect()
    with holder, holder.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0) AS got", (name,))
        assert cursor.fetchone()["got"] == 1
        with pytest.raises(Refused) as refused:
            await office.store.transaction(lambda tx: office.store.lock_patient(tx, PATIENT))
    assert refused.value.code == ErrorCode.BUSY
    assert refused.value.message == (
        "The office's calendar is busy right now. Please try again in a moment."
    )
    # The other patient was never blocked.
    assert await office.store.transaction(lambda tx: office.store.lock_patient(tx, OTHER_PATIENT))


async def test_the_pools_after_hook_runs_after_commit_and_after_rollback(
    openemr_portal: OpenEMRPortal,
) -> None:
    """What makes releasing in `after` safe: by then the transaction's rows are committed
    (or gone), as another connection sees them."""
    db = openemr_portal.openemr
    pool = Database(db.settings)
    seen: list[int] = []

    def count(_connection: Any) -> None:
        seen.append(len(db.query("SELECT pc_eid FROM openemr_postcalendar_events")))

    def add(tx: Tx, fail: bool) -> None:
        add_row = (
            "INSERT INTO openemr_postcalendar_events (pc_multiple, pc_eventDate)"
            " VALUES (0, '2026-11-03')"
        )
        tx.execute(add_row)
        if fail:
            raise RuntimeError("rolled back")

    pool.after_every_transaction(count)
    await pool.transaction(add, False)
    with pytest.raises(RuntimeError):
        await pool.transaction(add, True)
    assert seen == [1, 1]
    await pool.close()


async def test_a_failing_after_hook_drops_the_connection_and_keeps_the_result(
    openemr_portal: OpenEMRPortal,
) -> None:
    pool = Database(openemr_portal.openemr.settings)
    ids: list[int] = []

    def session(tx: Tx) -> int:
        tx.execute("SELECT CONNECTION_ID() AS id")
        return int(tx.fetchone()["id"])

    failures = [RuntimeError("release failed")]  # the first transaction's hook fails

    def broken(_connection: Any) -> None:
        if failures:
            raise failures.pop()

    pool.after_every_transaction(broken)
    ids.append(await pool.transaction(session))
    ids.append(await pool.transaction(session))
    ids.append(await pool.transaction(session))
    # The first session was closed rather than reused; the second one is reused.
    assert ids[1] != ids[0] and ids[2] == ids[1]
    await pool.close()
