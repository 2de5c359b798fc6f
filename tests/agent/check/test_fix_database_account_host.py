"""Issue 11: "install.md step 2 fails under MariaDB's `skip-name-resolve` (`'portico'@'localhost'`
vs a TCP connection to 127.0.0.1); `check`'s hint repeats the wrong fix."

The agent connects over TCP to database.host. With skip-name-resolve (as on this test server)
MariaDB sees such a connection from 127.0.0.1, never from "localhost", so an account made for
'localhost' is refused. These tests make real accounts for both hosts: `check` must name the
account the server actually looked for, and the statement it prints must let the agent in.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pymysql

from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import check, database_user, run_as_admin, write_config


def test_server_skips_name_resolution() -> None:
    """The premise of the other tests: this server sees TCP clients by address only."""
    connection = pymysql.connect(host="127.0.0.1", user="root", password="")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@skip_name_resolve")
        assert cursor.fetchone() == (1,)


def test_an_account_for_localhost_is_told_to_become_the_address_the_server_sees(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    name, password = f"chk_{secrets.token_hex(5)}", secrets.token_urlsafe(18)
    run_as_admin(practice_db, f"CREATE USER '{name}'@'localhost' IDENTIFIED BY '{password}'")
    try:
        user = DatabaseSettings(
            host="127.0.0.1", port=practice_db.port, name=practice_db.name, user=name,
            password=password,
        )  # fmt: skip
        path = write_config(tmp_path, user, link_keys)
        before = check(path)
        database = before.line("database")
        assert database.startswith("FAIL  database ")
        assert f"'{name}'@'127.0.0.1'" in database
        assert f"'{name}'@'localhost'" not in database.partition("fix:")[0]
        rename = [
            line.strip() for line in database.splitlines() if line.strip().startswith("RENAME USER")
        ]
        assert rename == [f"RENAME USER '{name}'@'localhost' TO '{name}'@'127.0.0.1';"]

        run_as_admin(practice_db, *rename)
        renamed = check(path)  # in now, but with no rights yet: the grants item says which
        grants = renamed.statements("grants")
        assert grants and all(g.endswith(f" TO '{name}'@'127.0.0.1';") for g in grants)
        run_as_admin(practice_db, *grants)
        after = check(path)
    finally:
        for host in ("localhost", "127.0.0.1"):
            run_as_admin(practice_db, f"DROP USER IF EXISTS '{name}'@'{host}'")

    assert after.line("database").startswith(f"OK    database     {name}@127.0.0.1 reaches")


def test_the_administrator_case_creates_the_user_for_the_address_the_server_sees(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    # An administrator's account for any host ('%'): the new user must still be made for the
    # one address this agent comes from, not for every host.
    with database_user(practice_db, "GRANT ALL PRIVILEGES ON *.* TO {who}") as admin:
        run = check(write_config(tmp_path, admin, link_keys))

    assert run.status_of("grants") == "FAIL"
    assert run.statements("grants")[0] == (
        "CREATE USER 'portico'@'127.0.0.1' IDENTIFIED BY 'a-long-random-password';"
    )
