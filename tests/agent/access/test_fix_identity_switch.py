"""Issue 11, item 3: changing `access.identity` locks everyone out.

> Switching email <-> username makes every existing account unable to sign in or reset.
> Existing accounts keep working after a switch (the setting governs what new accounts
> choose); `config validate` and reload say how many accounts the change affects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import main
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    DOB,
    PASSWORD,
    ZIP,
    AccessPractice,
    access_practice,
    config_dict,
    email_of,
    link_token,
)
from tests.support.logs import LogCapture
from tests.support.practice import write_config_file

ENABLED = {"activate_without_confirmation": True}


def switch_to(practice: AccessPractice, tmp_path: Path, identity: str) -> None:
    """Office IT edits access.identity in agent.yaml and reloads the running agent."""
    config = practice.agent.config
    assert config.email.smtp is not None
    data = config_dict(
        practice.settings,
        config.tls.key_file.parents[1],
        config.email.smtp.port,
        access={**ENABLED, "identity": identity},
    )
    data["metrics"] = {"enabled": False}
    path = write_config_file(tmp_path / "agent.yaml", data)
    assert practice.agent.reload_config(Path(path)) is not None
    assert practice.agent.access.rules.identity == identity


async def activate(practice: AccessPractice, patient: int, username: str | None = None) -> None:
    await practice.staff.invite(patient)
    token = link_token(await practice.one_mail(email_of(patient)), "/activate")
    params = {"token": token, "date_of_birth": DOB, "zip": ZIP, "password": PASSWORD}
    await practice.call("access.activate", **params, **({"username": username} if username else {}))


async def can_reset(practice: AccessPractice, login: str, to: str) -> None:
    await practice.call("access.forgot_password", login=login)
    link_token(await practice.one_mail(to), "/reset")


async def test_email_accounts_keep_working_after_a_switch_to_usernames(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    async with access_practice(practice_db, link_keys, access=ENABLED) as practice:
        await activate(practice, 3)
        await activate(practice, 4)
        switch_to(practice, tmp_path, "username")

        session = await practice.sign_in(email_of(3))
        assert (await practice.call("access.account", session))["first_name"] == "Pat3"
        await can_reset(practice, email_of(4), email_of(4))
        changed = await logs.wait_for("agent.identity_changed")
        assert (changed["before"], changed["after"], changed["accounts"]) == (
            "email",
            "username",
            2,
        )
        assert "2 existing accounts sign in with an email address" in changed["meaning"]

        # New accounts follow the new setting: they choose a username.
        await practice.staff.invite(5)
        token = link_token(await practice.one_mail(email_of(5)), "/activate")
        params = {"token": token, "date_of_birth": DOB, "zip": ZIP, "password": PASSWORD}
        refused = await practice.refused("access.activate", **params)
        assert refused.message == "username: please choose a username"
        await practice.call("access.activate", **params, username="pat-five")
        await practice.sign_in("pat-five")


async def test_username_accounts_keep_working_after_a_switch_to_email(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    async with access_practice(
        practice_db, link_keys, access={**ENABLED, "identity": "username"}
    ) as practice:
        await activate(practice, 6, username="pat-six")
        switch_to(practice, tmp_path, "email")

        session = await practice.sign_in("pat-six")
        assert (await practice.call("access.account", session))["first_name"] == "Pat6"
        await can_reset(practice, "PAT-SIX", email_of(6))
        changed = await logs.wait_for("agent.identity_changed")
        assert changed["accounts"] == 1
        assert "1 existing account signs in with a username" in changed["meaning"]

        # Its email changes keep its username as the login.
        await practice.call(
            "access.change_email", session, password=PASSWORD, new_email="six@example.net"
        )
        token = link_token(await practice.one_mail("six@example.net"), "/confirm-email")
        await practice.call("access.confirm_email_change", token=token)
        await practice.deliver()
        await practice.sign_in("pat-six")


async def test_config_validate_says_how_many_accounts_the_setting_affects(
    practice_db: DatabaseSettings,
    link_keys: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with access_practice(practice_db, link_keys, access=ENABLED) as practice:
        await activate(practice, 3)
        port = 2525
        data = config_dict(practice_db, link_keys, port, access={"identity": "username"})
        path = write_config_file(tmp_path / "agent.yaml", data)
        capsys.readouterr()
        assert main(["config", "validate", path]) == 0
        out = capsys.readouterr().out
        assert "1 existing account signs in with an email address" in out
        assert out.endswith("config OK\n")

        # No database to ask: it says so, and the file is still valid.
        data["database"]["name"] = "portico_no_such_database"
        path = write_config_file(tmp_path / "agent.yaml", data)
        assert main(["config", "validate", path]) == 0
        out = capsys.readouterr().out
        assert "could not count the accounts" in out
        assert out.endswith("config OK\n")
