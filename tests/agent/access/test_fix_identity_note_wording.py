"""Journey review after issue 11: `config validate` told every office about zero accounts.

> note: access.identity is email: 0 existing accounts sign in with a username and will keep
> doing so; new accounts sign in with their email address

Every office that never switched `access.identity` read this on each validation. With no
account signing in the other way the note says simply how accounts sign in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.access.logins import identity_meaning
from agent.cli import main
from agent.db.pool import DatabaseSettings
from tests.agent.access.test_fix_identity_switch import ENABLED, activate
from tests.agent.access_fixtures import access_practice, config_dict
from tests.support.practice import write_config_file


async def test_no_account_the_other_way_is_not_announced_as_zero(
    practice_db: DatabaseSettings,
    link_keys: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with access_practice(practice_db, link_keys, access=ENABLED) as practice:
        await activate(practice, 3)  # signs in with its email address
        data = config_dict(practice_db, link_keys, 2525, access={"identity": "email"})
        path = write_config_file(tmp_path / "agent.yaml", data)
        capsys.readouterr()
        assert main(["config", "validate", path]) == 0
        out = capsys.readouterr().out
        assert "note: access.identity is email: accounts sign in with their email address\n" in out
        assert " 0 existing" not in out


def test_the_username_setting_says_the_same_plainly() -> None:
    assert identity_meaning("username", 0) == (
        "access.identity is username: accounts sign in with a username"
    )
    assert "2 existing accounts sign in with an email address" in identity_meaning("username", 2)
