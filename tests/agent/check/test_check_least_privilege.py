"""The GRANT statements ``portico-agent check`` prints are enough to run the agent.

A user with no rights at all is given exactly what the check prints, and then the real
agent, connected as that user, books, reschedules, cancels and lists over the link (writing
its audit rows). A set that is too narrow fails here, with MariaDB's "command denied".
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import check, database_user, run_as_admin, write_config
from tests.support.practice import DR_ADAMS, DR_BAKER, FOLLOW_UP, running_practice


async def test_the_agent_books_and_cancels_with_only_the_printed_grants(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with database_user(practice_db) as portico:
        printed = check(write_config(tmp_path, portico, link_keys)).statements("grants")
        run_as_admin(practice_db, *printed)

        async with running_practice(portico, link_keys, direct=practice_db) as practice:
            slots = await practice.call(
                "booking.availability", appointment_type_id=FOLLOW_UP, provider_id=DR_ADAMS, days=3
            )
            first, second = slots["days"][0]["slots"][:2]
            booked = await practice.call(
                "booking.book",
                appointment_type_id=FOLLOW_UP,
                provider_id=DR_ADAMS,
                start=first["start"],
            )
            moved = await practice.call(
                "booking.reschedule",
                appointment_id=booked["id"],
                provider_id=DR_BAKER,
                start=second["start"],
            )
            await practice.call("booking.cancel", appointment_id=moved["appointment"]["id"])
            listing = await practice.call("appointments.list")

    assert listing["upcoming"] == []
    rows = practice.query("SELECT status FROM appointments WHERE patient_id = 1 ORDER BY id")
    assert [row["status"] for row in rows] == ["cancelled", "cancelled"]
    audited = practice.query("SELECT action FROM portal_audit WHERE patient_id = 1")
    assert len(audited) >= 3  # book, reschedule, cancel: INSERT on portal_audit is enough


def test_the_printed_grants_give_no_right_to_change_the_practice_tables_structure(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with database_user(practice_db) as portico:
        printed = check(write_config(tmp_path, portico, link_keys)).statements("grants")

    assert printed  # the premise: there is something to inspect
    assert all(s.startswith("GRANT SELECT") for s in printed)
    assert not any(word in s for s in printed for word in ("ALL", "DROP", "ALTER", "*.*"))
    audit = [s for s in printed if "`portal_audit`" in s]
    assert audit == [
        f"GRANT SELECT, INSERT ON `{practice_db.name}`.`portal_audit` TO '{portico.user}'@'%';"
    ]
