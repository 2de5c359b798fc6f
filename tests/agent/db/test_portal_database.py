"""Portico's own tables in their own database (practice.system openemr, issue 13 item 2).

What a practice would notice: after `portico-agent migrate` the OpenEMR database is exactly as
it was, and Portico's database holds the same portal tables, column for column and index for
index, as the portico system's, tied to nothing outside it. Read from information_schema, not
from the code that made them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.cli import main
from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import database_user, run_as_admin
from tests.support.database import MariaDB, query
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.portal import OpenEMRPortal
from tests.support.practice import agent_config_data, write_config_file

# The portal tables the shipped migrations make (0002-0012, and the runner's own record).
PORTAL_TABLES = {
    "portal_migrations",
    "portal_idempotency",
    "portal_audit",
    "portal_accounts",
    "portal_tokens",
    "portal_sessions",
    "portal_outbox",
    "portal_message_threads",
    "portal_messages",
    "portal_message_attachments",
    "portal_forms",
    "portal_form_assignments",
    "portal_reset_requests",
    "portal_registrations",
    "portal_appointment_calendar",
}


def _rows(settings: DatabaseSettings, sql: str, schema: str) -> set[tuple[Any, ...]]:
    return {tuple(row.values()) for row in query(settings, sql, (schema,))}


def schema_of(settings: DatabaseSettings, schema: str) -> dict[str, set[tuple[Any, ...]]]:
    """Tables, columns, indexes and check constraints of `schema`, as the server reports them."""
    return {
        "tables": _rows(
            settings,
            "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = %s",
            schema,
        ),
        "columns": _rows(
            settings,
            "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE,"
            " COLUMN_DEFAULT, EXTRA, COLLATION_NAME FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = %s",
            schema,
        ),
        "indexes": _rows(
            settings,
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME"
            " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s",
            schema,
        ),
        "checks": _rows(
            settings,
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE"
            " FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s",
            schema,
        ),
    }


def foreign_keys(settings: DatabaseSettings, schema: str) -> set[tuple[Any, ...]]:
    """(table, constraint, column, referenced schema, referenced table, referenced column)."""
    return _rows(
        settings,
        "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA,"
        " REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE"
        " WHERE TABLE_SCHEMA = %s AND REFERENCED_TABLE_NAME IS NOT NULL",
        schema,
    )


def portal_part(schema: dict[str, set[tuple[Any, ...]]]) -> dict[str, set[tuple[Any, ...]]]:
    return {part: {row for row in rows if row[0] in PORTAL_TABLES} for part, rows in schema.items()}


def test_the_portal_database_has_the_portico_systems_portal_tables_and_no_other(
    openemr_portal: OpenEMRPortal, practice_db: DatabaseSettings
) -> None:
    portal = openemr_portal.portal
    got = schema_of(portal, portal.name)
    portico = schema_of(practice_db, practice_db.name)

    assert {row[0] for row in got["tables"]} == PORTAL_TABLES
    assert {row[0] for row in portico["tables"]} > PORTAL_TABLES  # and the practice's
    assert got == portal_part(portico)


def test_the_portal_database_keeps_its_own_foreign_keys_and_none_to_practice_tables(
    openemr_portal: OpenEMRPortal, practice_db: DatabaseSettings
) -> None:
    portal = openemr_portal.portal
    got = foreign_keys(portal, portal.name)

    assert {row[3] for row in got} == {portal.name}  # nothing outside it
    # The portico system's portal tables reference `patients` too; those, and only those, go.
    portico = foreign_keys(practice_db, practice_db.name)
    expected = {row[:3] + row[4:] for row in portico if row[4] in PORTAL_TABLES}
    dropped = {row[1] for row in portico if row[0] in PORTAL_TABLES and row[4] == "patients"}
    assert {row[:3] + row[4:] for row in got} == expected
    assert dropped == {
        "portal_accounts_patient",
        "portal_message_threads_patient",
        "portal_messages_patient",
        "portal_form_assignments_patient",
    }


@pytest.fixture
def portal_name(mariadb: MariaDB) -> Iterator[str]:
    """A portal database name nobody made yet; dropped afterwards if a test made it."""
    name = f"portico_p_{secrets.token_hex(5)}"
    yield name
    run_as_admin(mariadb.settings(""), f"DROP DATABASE IF EXISTS `{name}`")


def openemr_config(
    openemr: OpenEMRDatabase, portal: str, keys: Path, tmp_path: Path, **database: Any
) -> str:
    data = agent_config_data(openemr.settings, keys)
    data["practice"]["system"] = "openemr"
    data["database"].update(portal_name=portal, **database)
    return write_config_file(tmp_path / "agent.yaml", data)


def test_migrate_creates_the_portal_database_and_leaves_openemr_unchanged(
    openemr_db: OpenEMRDatabase,
    portal_name: str,
    link_keys: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = openemr_db.settings
    before = schema_of(server, server.name), foreign_keys(server, server.name)
    config = openemr_config(openemr_db, portal_name, link_keys, tmp_path)

    assert main(["migrate", "--config", config]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "applied 0001_practice (practice tables: none here)" in out
    assert "applied 0005_clinical (practice tables: none here)" in out
    assert "applied 0003_portal_access" in out
    assert out[-2:] == [
        f"Portico's tables are in database {portal_name}; the OpenEMR database"
        f" {server.name} was not changed",
        "database schema is up to date",
    ]
    tables = query(
        server,
        "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
        (portal_name,),
    )
    assert {row["t"] for row in tables} == PORTAL_TABLES
    # Every shipped file is recorded, so `check` compares the same list on both systems.
    versions = query(server, f"SELECT version FROM `{portal_name}`.portal_migrations")
    assert sorted(row["version"] for row in versions) == list(range(1, 13))

    assert main(["migrate", "--config", config]) == 0  # again: nothing to do
    assert not [line for line in capsys.readouterr().out.splitlines() if "applied" in line]
    assert (schema_of(server, server.name), foreign_keys(server, server.name)) == before


def test_a_user_who_may_not_create_the_portal_database_is_told_what_to_run(
    openemr_db: OpenEMRDatabase,
    portal_name: str,
    link_keys: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = openemr_db.settings
    with database_user(admin, "GRANT SELECT ON {db}.* TO {who}") as user:
        config = openemr_config(
            openemr_db, portal_name, link_keys, tmp_path, user=user.user, password=user.password
        )
        assert main(["migrate", "--config", config]) == 1
        advice = capsys.readouterr().err
        assert f"Portico's database {portal_name} (database.portal_name) does not exist" in advice
        statements = [line.strip() for line in advice.splitlines() if line.startswith("  ")]
        assert statements == [
            f"CREATE DATABASE `{portal_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES"
            f" ON `{portal_name}`.* TO '{user.user}'@'%';",
        ]
        # The administrator runs exactly that; then migrate works as the user.
        run_as_admin(admin, *(s.rstrip(";") for s in statements))
        assert main(["migrate", "--config", config]) == 0
    assert "database schema is up to date" in capsys.readouterr().out
