"""Password length over the link: 72 and 73 characters are both accepted and stay distinct
(nothing truncates at bcrypt's 72 bytes); 10,000 characters are refused by name."""

from __future__ import annotations

from pathlib import Path

from agent.access.sessions import SIGN_IN_FAILED
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    DOB,
    PASSWORD,
    ZIP,
    AccessPractice,
    access_practice,
    email_of,
    link_token,
)

PASSWORD_72 = ("Tq7-vlwe.Rz3!" * 6)[:72]
PASSWORD_73 = PASSWORD_72 + "Q"
PASSWORD_10000 = ("Tq7-vlwe.Rz3!" * 800)[:10_000]
P = 6


async def refused_sign_in(practice: AccessPractice, login: str, password: str) -> None:
    error = await practice.refused("access.sign_in", login=login, password=password)
    assert (error.code, error.message) == ("unauthenticated", SIGN_IN_FAILED)


async def test_72_and_73_characters_are_accepted_and_distinct(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    assert (len(PASSWORD_72), len(PASSWORD_73)) == (72, 73)
    async with access_practice(
        practice_db, link_keys, access={"activate_without_confirmation": True}
    ) as practice:
        await practice.invite_and_activate(P, PASSWORD_73)
        await refused_sign_in(practice, email_of(P), PASSWORD_72)
        session = await practice.sign_in(email_of(P), PASSWORD_73)

        changed = await practice.call(
            "access.change_password",
            session,
            current_password=PASSWORD_73,
            new_password=PASSWORD_72,
        )
        assert "session" in changed
        await practice.one_mail(email_of(P))  # "your password was changed"
        await refused_sign_in(practice, email_of(P), PASSWORD_73)
        await practice.sign_in(email_of(P), PASSWORD_72)

        # And the other way round, on a second account: 72 set, 73 typed.
        await practice.invite_and_activate(P + 1, PASSWORD_72)
        await refused_sign_in(practice, email_of(P + 1), PASSWORD_73)
        await practice.sign_in(email_of(P + 1), PASSWORD_72)


async def test_a_10000_character_password_is_refused_naming_the_field(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(
        practice_db,
        link_keys,
        access={"activate_without_confirmation": True, "self_registration": True},
    ) as practice:
        await practice.staff.invite(P)
        invite = link_token(await practice.one_mail(email_of(P)), "/activate")
        refusals = [
            await practice.refused(
                "access.activate", token=invite, date_of_birth=DOB, zip=ZIP, password=PASSWORD_10000
            ),
            await practice.refused(
                "access.register",
                first_name="Long",
                last_name="Password",
                date_of_birth=DOB,
                zip=ZIP,
                email="long.password@example.org",
                password=PASSWORD_10000,
            ),
        ]
        for error in refusals:
            assert error.code == "invalid_params"
            assert error.message.startswith("password:")
            assert PASSWORD_10000[:20] not in error.message

        # The invite was not spent by the refused attempt.
        await practice.call(
            "access.activate", token=invite, date_of_birth=DOB, zip=ZIP, password=PASSWORD
        )
        session = await practice.sign_in(email_of(P))
        await practice.call("access.forgot_password", login=email_of(P))
        reset = link_token(await practice.one_mail(email_of(P)), "/reset")
        error = await practice.refused(
            "access.reset_password", token=reset, password=PASSWORD_10000
        )
        assert error.code == "invalid_params" and error.message.startswith("password:")
        error = await practice.refused(
            "access.change_password",
            session,
            current_password=PASSWORD,
            new_password=PASSWORD_10000,
        )
        assert error.code == "invalid_params" and error.message.startswith("new_password:")

        # Typed at sign-in it is just a wrong password, and the real one still works.
        await refused_sign_in(practice, email_of(P), PASSWORD_10000)
        await practice.sign_in(email_of(P))
        assert practice.query("SELECT COUNT(*) AS n FROM portal_accounts") == [{"n": 1}]
