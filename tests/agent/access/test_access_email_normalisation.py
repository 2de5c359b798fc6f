"""Account-level email normalisation: a lookalike of an account's address is that address
(never a second account), and addresses with invisible or confusable letters are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.access.sessions import SIGN_IN_FAILED
from agent.access.staff import StaffRefused
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    DOB,
    PASSWORD,
    ZIP,
    AccessPractice,
    access_practice,
    link_token,
    text_of,
)

KATE, LOOKALIKE = 11, 12
ADDRESS = "kate.lee@example.org"
KELVIN = "\u212aate.lee@example.org"  # KELVIN SIGN, which NFKC turns into "K"
DOTLESS = "kat\u0131e.lee@example.org"  # LATIN SMALL LETTER DOTLESS I
RLM = "kate.lee\u200f@example.org"  # RIGHT-TO-LEFT MARK, invisible
ACCESS = {"identity": "email", "self_registration": True, "activate_without_confirmation": True}


def sign_up(email: str) -> dict[str, Any]:
    return {
        "first_name": "Kate",
        "last_name": "Lee",
        "date_of_birth": "1990-02-03",
        "zip": "10001",
        "email": email,
        "password": "an-entirely-different-passphrase",
    }


async def with_kate(practice: AccessPractice) -> str:
    """Patient 11 with an active account for kate.lee@example.org; returns a session."""
    practice.execute("UPDATE patients SET email = %s WHERE id = %s", (ADDRESS, KATE))
    await practice.staff.invite(KATE)
    [mail] = await practice.deliver()
    await practice.call(
        "access.activate",
        token=link_token(mail, "/activate"),
        date_of_birth=DOB,
        zip=ZIP,
        password=PASSWORD,
    )
    return await practice.sign_in(ADDRESS)


def accounts(practice: AccessPractice) -> list[dict[str, Any]]:
    return practice.query(
        "SELECT patient_id, email, login_email, status FROM portal_accounts ORDER BY id"
    )


async def test_registering_a_lookalike_of_an_account_s_address_makes_no_second_account(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=ACCESS) as practice:
        await with_kate(practice)
        fresh = await practice.call("access.register", **sign_up("someone.new@example.org"))
        await practice.deliver()
        before = accounts(practice), practice.query("SELECT COUNT(*) AS n FROM patients")
        for variant in (KELVIN, "KATE.LEE@EXAMPLE.ORG", f"  {ADDRESS.upper()} "):
            answer = await practice.call("access.register", **sign_up(variant))
            assert answer == fresh  # the same words as a real sign-up: nothing revealed
        assert (accounts(practice), practice.query("SELECT COUNT(*) AS n FROM patients")) == before
        assert await practice.deliver() == []
        assert all(row["login_email"].isascii() for row in accounts(practice))

        # Typed with a Kelvin sign, the login is Kate's address: it is her account.
        session = await practice.sign_in(KELVIN.upper())
        assert (await practice.call("access.account", session))["first_name"] == "Pat11"


async def test_staff_cannot_invite_a_lookalike_of_an_account_s_address(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=ACCESS) as practice:
        await with_kate(practice)
        practice.execute("UPDATE patients SET email = %s WHERE id = %s", (KELVIN, LOOKALIKE))

        with pytest.raises(StaffRefused, match="already the login of patient 11"):
            await practice.staff.invite(LOOKALIKE)
        with pytest.raises(StaffRefused, match="already another account's login"):
            await practice.staff.set_access(LOOKALIKE, True)
        duplicates = await practice.staff.duplicates()
        assert {a: [r["id"] for r in rows] for a, rows in duplicates.items()} == {
            ADDRESS: [KATE, LOOKALIKE]
        }
        summary = await practice.staff.invite_all()
        assert summary.duplicates == {ADDRESS: [KATE, LOOKALIKE]}
        assert LOOKALIKE not in summary.sent
        assert [m.rcpt_tos for m in await practice.deliver()] == [
            [f"pat{i}@example.org"] for i in summary.sent
        ]
        assert practice.query(
            "SELECT COUNT(*) AS n FROM portal_accounts WHERE patient_id = %s", (LOOKALIKE,)
        ) == [{"n": 0}]


async def test_changing_to_a_lookalike_of_another_account_s_address_changes_nothing(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=ACCESS) as practice:
        await with_kate(practice)
        mine = await practice.signed_in_patient(LOOKALIKE)
        before = accounts(practice)

        answer = await practice.call(
            "access.change_email", mine, password=PASSWORD, new_email=KELVIN
        )
        assert answer["status"] == "check_email"
        assert await practice.deliver() == []  # no confirmation link to Kate's mailbox
        with pytest.raises(StaffRefused, match="already another account's login"):
            await practice.staff.request_email_change(LOOKALIKE, KELVIN)
        assert accounts(practice) == before
        assert practice.query(
            "SELECT COUNT(*) AS n FROM portal_tokens WHERE purpose = 'change_email'"
        ) == [{"n": 0}]


@pytest.mark.parametrize("address", [DOTLESS, RLM], ids=["dotless-i", "rlm"])
async def test_invisible_and_confusable_letters_are_refused(
    practice_db: DatabaseSettings, link_keys: Path, address: str
) -> None:
    async with access_practice(practice_db, link_keys, access=ACCESS) as practice:
        session = await with_kate(practice)
        before = accounts(practice)

        registered = await practice.refused("access.register", **sign_up(address))
        assert registered.code == "invalid_params"
        assert registered.message.startswith("email:")
        changed = await practice.refused(
            "access.change_email", session, password=PASSWORD, new_email=address
        )
        assert changed.code == "invalid_params"
        assert changed.message.startswith("new_email:")
        assert address not in registered.message + changed.message

        with pytest.raises(StaffRefused):
            await practice.staff.request_email_change(LOOKALIKE, address)
        practice.execute("UPDATE patients SET email = %s WHERE id = %s", (address, LOOKALIKE))
        with pytest.raises(StaffRefused, match="no valid email"):
            await practice.staff.invite(LOOKALIKE)

        # At sign-in such a login is simply unknown: the one generic answer.
        error = await practice.refused("access.sign_in", login=address, password=PASSWORD)
        assert (error.code, error.message) == ("unauthenticated", SIGN_IN_FAILED)
        assert accounts(practice) == before
        assert await practice.deliver() == []


async def test_with_usernames_a_family_shares_one_address(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Seed 004: patients who share an email each need their own username."""
    family = "the.okafors@example.org"
    access = {"identity": "username", "activate_without_confirmation": True}
    async with access_practice(practice_db, link_keys, access=access) as practice:
        for patient in (21, 22):
            practice.execute("UPDATE patients SET email = %s WHERE id = %s", (family, patient))
            await practice.staff.invite(patient)
        mails = await practice.deliver()
        assert [m.rcpt_tos for m in mails] == [[family], [family]]
        # One address, two invitations: each greets its own patient.
        by_name = {text_of(m).splitlines()[0]: link_token(m, "/activate") for m in mails}
        tokens = [by_name["Hello Pat21,"], by_name["Hello Pat22,"]]

        def activation(token: str, **more: Any) -> dict[str, Any]:
            return {"token": token, "date_of_birth": DOB, "zip": ZIP, "password": PASSWORD, **more}

        missing = await practice.refused("access.activate", **activation(tokens[0]))
        assert missing.code == "invalid_params" and missing.message.startswith("username:")
        await practice.call("access.activate", **activation(tokens[0], username="Ada"))
        taken = await practice.refused("access.activate", **activation(tokens[1], username="ADA"))
        assert taken.code == "invalid_params" and "taken" in taken.message
        await practice.call("access.activate", **activation(tokens[1], username="Chidi"))

        ada = await practice.sign_in("ada")
        chidi = await practice.sign_in("CHIDI")
        assert (await practice.call("access.account", ada))["first_name"] == "Pat21"
        assert (await practice.call("access.account", chidi))["first_name"] == "Pat22"
        error = await practice.refused("access.sign_in", login=family, password=PASSWORD)
        assert (error.code, error.message) == ("unauthenticated", SIGN_IN_FAILED)
