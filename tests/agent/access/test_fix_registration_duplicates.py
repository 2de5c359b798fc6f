"""Issue 11, item 2: self-registration creates duplicate, empty charts.

> With `access.self_registration: true`, `/register` writes a `patients` row at submit, before
> the email is verified; a person who is already a patient (same name/DOB/zip, or the same
> name without diacritics) gets a second, empty chart; a wrong date of birth is accepted;
> afterwards `invite` for the real patient fails. Nothing may be written to the practice's
> patients before verification; someone who matches an existing chart must not get a second
> one (offer activation of the existing one by email, without telling the browser whether a
> chart matched); `patients duplicates` must not grow from registrations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    PASSWORD,
    AccessPractice,
    access_practice,
    email_of,
    link_token,
    text_of,
)

ZOE_EMAIL = "zoe.angstrom@example.org"
ZOE = {"first_name": "Zoë", "last_name": "Ångström-Nuñez", "dob": "1985-04-12", "zip": "02139"}
SELF_REGISTRATION = {"self_registration": True}


def sign_up(**changes: Any) -> dict[str, Any]:
    return {
        "first_name": ZOE["first_name"],
        "last_name": ZOE["last_name"],
        "date_of_birth": ZOE["dob"],
        "zip": ZOE["zip"],
        "email": ZOE_EMAIL,
        "password": PASSWORD,
        **changes,
    }


def add_zoe(practice: AccessPractice, email: str | None = ZOE_EMAIL) -> int:
    """Zoë's chart, as the office registered her (with her diacritics)."""
    practice.execute(
        "INSERT INTO patients (first_name, last_name, date_of_birth, email, home_zip)"
        " VALUES (%s, %s, %s, %s, %s)",
        (ZOE["first_name"], ZOE["last_name"], ZOE["dob"], email, "02139-4307"),
    )
    return int(practice.query("SELECT MAX(id) AS id FROM patients")[0]["id"])


def patient_count(practice: AccessPractice) -> int:
    return int(practice.query("SELECT COUNT(*) AS n FROM patients")[0]["n"])


async def test_nothing_is_written_to_patients_before_the_email_is_verified(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        before = patient_count(practice)
        answer = await practice.call("access.register", **sign_up())
        assert answer["status"] == "check_email"
        token = link_token(await practice.one_mail(ZOE_EMAIL), "/verify")
        assert patient_count(practice) == before
        assert practice.query("SELECT COUNT(*) AS n FROM portal_accounts") == [{"n": 0}]

        assert await practice.call("access.verify_email", token=token) == {"verified": True}
        [chart] = practice.query(
            "SELECT id, first_name, last_name, date_of_birth, email, home_zip FROM patients"
            " WHERE id > %s",
            (before,),
        )
        assert (chart["first_name"], chart["last_name"], str(chart["date_of_birth"])) == (
            ZOE["first_name"],
            ZOE["last_name"],
            ZOE["dob"],
        )
        assert (chart["email"], chart["home_zip"]) == (ZOE_EMAIL, ZOE["zip"])
        session = await practice.sign_in(ZOE_EMAIL)
        assert (await practice.call("access.account", session))["first_name"] == "Zoë"


@pytest.mark.parametrize(
    "typed",
    [
        {},  # exactly as on file
        {"first_name": "ZOE", "last_name": "angstrom nunez"},  # no diacritics, other case
    ],
    ids=["exact", "without-diacritics"],
)
async def test_a_patient_who_registers_activates_their_own_chart(
    practice_db: DatabaseSettings, link_keys: Path, typed: dict[str, str]
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        zoe = add_zoe(practice)
        before = patient_count(practice)
        duplicates = await practice.staff.duplicates()

        await practice.call("access.register", **sign_up(**typed))
        token = link_token(await practice.one_mail(ZOE_EMAIL), "/verify")
        assert await practice.call("access.verify_email", token=token) == {"verified": True}

        assert patient_count(practice) == before  # no second chart
        assert await practice.staff.duplicates() == duplicates
        [account] = practice.query("SELECT patient_id, status, access_enabled FROM portal_accounts")
        assert account == {"patient_id": zoe, "status": "active", "access_enabled": 1}
        session = await practice.sign_in(ZOE_EMAIL)
        assert (await practice.call("access.account", session))["first_name"] == "Zoë"


async def test_a_match_with_another_email_on_file_is_told_to_call_the_office(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        add_zoe(practice, email="zoe.at.home@example.net")
        before = patient_count(practice)
        await practice.call("access.register", **sign_up(first_name="Zoe"))
        mail = await practice.one_mail(ZOE_EMAIL)
        text = text_of(mail)
        assert "call" in text and "+1 555 0100" in text
        # Nothing that says what the office has on file, and no link to act on.
        assert "http" not in text and "zoe.at.home" not in text and "1985" not in text
        assert patient_count(practice) == before
        assert practice.query("SELECT COUNT(*) AS n FROM portal_accounts") == [{"n": 0}]


async def test_invite_for_the_real_patient_still_works_after_someone_registered(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        # Pat7 registers themselves (a match), and a stranger signs up with Pat7's address.
        same = {"first_name": "Pat7", "last_name": "Example", "date_of_birth": "1970-01-01"}
        await practice.call("access.register", **sign_up(**same, zip="10001", email=email_of(7)))
        await practice.call("access.register", **sign_up(email=email_of(7)))
        await practice.deliver()
        assert await practice.staff.invite(7) == "p***@example.org"
        await practice.one_mail(email_of(7))


async def test_the_answer_is_the_same_whether_or_not_a_chart_matched(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        add_zoe(practice, email="zoe.at.home@example.net")
        answers = {
            repr(await practice.call("access.register", **params))
            for params in (
                sign_up(),  # matches Zoë, another email on file
                sign_up(email="zoe.at.home@example.net"),  # matches Zoë and her email
                sign_up(first_name="Nora", last_name="Quill"),  # nobody on file
                sign_up(first_name="Pat3", last_name="Example", email=email_of(3)),
            )
        }
        assert len(answers) == 1


@pytest.mark.parametrize(
    ("born", "why"),
    [("2026-11-25", "in the future"), ("1890-06-01", "more than 125 years ago")],
)
async def test_impossible_birth_dates_are_refused_with_a_clear_message(
    practice_db: DatabaseSettings, link_keys: Path, born: str, why: str
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        before = patient_count(practice)
        refused = await practice.refused("access.register", **sign_up(date_of_birth=born))
        assert refused.code == "invalid_params"
        assert refused.message.startswith("date_of_birth: ") and why in refused.message
        assert await practice.deliver() == []
        assert patient_count(practice) == before


async def test_an_abandoned_sign_up_is_forgotten_when_its_link_expires(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        await practice.call("access.register", **sign_up())
        token = link_token(await practice.one_mail(ZOE_EMAIL), "/verify")
        practice.advance(hours=48, seconds=1)
        await practice.deliver()  # the mail worker's round
        assert practice.query("SELECT COUNT(*) AS n FROM portal_registrations") == [{"n": 0}]
        assert (await practice.refused("access.verify_email", token=token)).code == "not_found"
