"""Issue 13, Must show: "Flipping allow_patient_portal in the table refuses that patient's next
request." Staff turn the portal off in their own system (straight SQL here, behind the agent's
back: no `access disable`, no session ended by Portico); the patient's very next click over the
link is answered as a session that has ended, word for word as a session that never existed.

Runs on both practice systems (`small_practice`): on openemr the switch is
`patient_data.allow_patient_portal` ('NO'); Portico's own schema has no such column, so there
the switch behind the agent's back is the account's `access_enabled`."""

from __future__ import annotations

from pathlib import Path

from agent.access.sessions import SIGN_IN_FAILED
from agent.access.tokens import new_token
from tests.agent.access_fixtures import PASSWORD, AccessPractice, access_practice
from tests.support.database import MariaDB, query
from tests.support.openemr import STRICT_SQL_MODE
from tests.support.openemr.portal import openemr_with_portal
from tests.support.openemr.practice import OpenEMRSmallPractice, install_small_practice
from tests.support.practice import SmallPractice

P = 4  # the patient's number in the small practice


async def _appointments(practice: AccessPractice, session: str) -> object:
    return await practice.call("appointments.list", session)


async def test_turning_the_portal_off_in_the_table_refuses_the_next_request(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        me, other = small_practice.patient(P), small_practice.patient(P + 1)
        session = await practice.signed_in_patient(me)
        others = await practice.signed_in_patient(other)
        assert await _appointments(practice, session) == {"upcoming": [], "past": []}

        small_practice.set_portal_allowed(me, False)

        refused = await practice.refused("appointments.list", session)
        never_existed, _ = new_token()
        missing = await practice.refused("appointments.list", never_existed)
        assert refused.code == "unauthenticated"
        assert (refused.code, refused.message) == (missing.code, missing.message)
        # The right password no longer signs in, and says so as for an unknown login.
        for login in (practice.email_of(me), "nobody.at.all@example.org"):
            error = await practice.refused("access.sign_in", login=login, password=PASSWORD)
            assert (error.code, error.message) == ("unauthenticated", SIGN_IN_FAILED)
        # Only that patient: the other one's session carries on.
        assert await _appointments(practice, others) == {"upcoming": [], "past": []}


async def test_booking_is_refused_once_the_portal_is_off(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    """Not just reads: a booking sent after the switch changes nothing in the calendar."""
    async with access_practice(small_practice, link_keys) as practice:
        me = small_practice.patient(P)
        session = await practice.signed_in_patient(me)
        small_practice.set_portal_allowed(me, False)
        error = await practice.refused(
            "booking.book",
            session,
            appointment_type_id=small_practice.FOLLOW_UP,
            provider_id=small_practice.DR_ADAMS,
            start="2026-11-25T15:00:00Z",
        )
        assert error.code == "unauthenticated"
        assert small_practice.appointments() == []


async def test_staff_access_disable_and_enable_set_openemrs_own_switch(
    mariadb: MariaDB, link_keys: Path
) -> None:
    """On OpenEMR, `portico-agent access disable|enable` writes the column OpenEMR's own portal
    reads (issue 13 item 3): 'NO' then 'YES', exactly, and nothing else of the patient's row;
    the patient's session ends at once, and both changes are in Portico's audit trail."""
    with openemr_with_portal(mariadb, STRICT_SQL_MODE) as pair:
        twin = OpenEMRSmallPractice(pair.openemr, pair.portal, install_small_practice(pair.openemr))
        async with access_practice(twin, link_keys) as practice:
            me = twin.patient(P)
            session = await practice.signed_in_patient(me)
            before = pair.openemr.query("SELECT * FROM patient_data WHERE pid = %s", (me,))[0]

            await practice.staff.set_access(me, False)
            after = pair.openemr.query("SELECT * FROM patient_data WHERE pid = %s", (me,))[0]
            assert after["allow_patient_portal"] == "NO"
            # last_updated is the table's own ON UPDATE CURRENT_TIMESTAMP, as for OpenEMR's saves.
            changed = {k for k, v in after.items() if before[k] != v} - {"last_updated"}
            assert changed == {"allow_patient_portal"}
            assert (await practice.refused("appointments.list", session)).code == (
                "unauthenticated"
            )

            await practice.staff.set_access(me, True)
            row = pair.openemr.query(
                "SELECT allow_patient_portal FROM patient_data WHERE pid = %s", (me,)
            )
            assert row == [{"allow_patient_portal": "YES"}]
            await practice.signed_in_patient(me)
            audit = query(
                pair.portal,
                "SELECT action, outcome FROM portal_audit WHERE patient_id = %s"
                " AND action LIKE 'access.%%able' ORDER BY id",
                (me,),
            )
            assert [(r["action"], r["outcome"]) for r in audit] == [
                ("access.disable", "ok"),
                ("access.enable", "ok"),
            ]


async def test_staff_switch_changes_in_the_practice_record_are_always_audited(
    mariadb: MariaDB, link_keys: Path
) -> None:
    """The two cases where only OpenEMR's column changes: disabling a patient who has no
    portal account, and enabling an account that is enabled while OpenEMR says NO. Each
    writes the column, says so, and leaves an audit row; a disable that changes nothing
    leaves none."""
    with openemr_with_portal(mariadb, STRICT_SQL_MODE) as pair:
        twin = OpenEMRSmallPractice(pair.openemr, pair.portal, install_small_practice(pair.openemr))
        async with access_practice(twin, link_keys) as practice:
            no_account, member = twin.patient(P + 2), twin.patient(P)
            await practice.signed_in_patient(member)

            said = await practice.staff.set_access(no_account, False)
            assert "practice's record" in said
            assert await practice.staff.set_access(no_account, False) == (
                "had no portal account; nothing to disable"
            )
            twin.set_portal_allowed(member, False)  # staff, in OpenEMR
            said = await practice.staff.set_access(member, True)
            assert "practice's record" in said

            def flag(pid: int) -> str:
                return str(
                    pair.openemr.query(
                        "SELECT allow_patient_portal FROM patient_data WHERE pid = %s", (pid,)
                    )[0]["allow_patient_portal"]
                )

            assert (flag(no_account), flag(member)) == ("NO", "YES")
            audit = query(
                pair.portal,
                "SELECT patient_id, action, detail FROM portal_audit"
                " WHERE action LIKE 'access.%%able' ORDER BY id",
            )
            assert [(r["patient_id"], r["action"], r["detail"]) for r in audit] == [
                (no_account, "access.disable", "no_account"),
                (member, "access.enable", "practice_record"),
            ]
