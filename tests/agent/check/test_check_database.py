"""``portico-agent check``'s database items against the real MariaDB: reachable as the
configured user, schema current, grants no wider than needed."""

from __future__ import annotations

import secrets
from pathlib import Path

import pymysql
import pytest

from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import (
    check,
    database_user,
    run_as_admin,
    write_config,
)
from tests.support.database import MariaDB


def config_for(tmp_path: Path, keys: Path, settings: DatabaseSettings) -> Path:
    return write_config(tmp_path, settings, keys)


def test_the_administrator_account_fails_and_is_told_to_make_a_user(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    run = check(config_for(tmp_path, link_keys, practice_db))  # root, no password

    grants = run.line("grants")
    assert run.status == 1
    assert grants.startswith("FAIL  grants       root@")
    assert "ALL PRIVILEGES ON *.* (every database on the server)" in grants
    assert "GRANT OPTION ON *.*" in grants
    assert run.statements("grants")[0].startswith("CREATE USER 'portico'@")


def test_a_user_without_rights_is_shown_the_grants_and_they_pass(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with database_user(practice_db) as user:
        path = config_for(tmp_path, link_keys, user)
        before = check(path)
        assert before.status_of("grants") == "FAIL"
        assert "lacks rights Portico needs" in before.line("grants")

        run_as_admin(practice_db, *before.statements("grants"))
        after = check(path)

    assert after.status_of("grants") == "OK", after.output
    assert after.line("grants").startswith(f"OK    grants       {user.user}@% has just the rights")
    assert after.status_of("schema") == "OK"


def test_data_rights_on_the_whole_database_warn_with_the_narrow_grants(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with database_user(practice_db, "GRANT SELECT, INSERT, UPDATE, DELETE ON {db}.* TO {who}") as u:
        run = check(config_for(tmp_path, link_keys, u))

    grants = run.line("grants")
    assert grants.startswith("WARN  grants ")
    assert "(every table, the practice's own included)" in grants
    statements = run.statements("grants")
    assert statements[0] == f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{u.user}'@'%';"
    assert f"GRANT SELECT ON `{u.name}`.`providers` TO '{u.user}'@'%';" in statements
    assert "IDENTIFIED BY PASSWORD" not in run.output  # SHOW GRANTS has the hash; never shown


def test_rights_on_another_database_fail(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with database_user(
        practice_db,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON {db}.* TO {who}",
        "GRANT SELECT ON `mysql`.* TO {who}",
    ) as user:
        run = check(config_for(tmp_path, link_keys, user))

    assert run.status == 1
    assert run.status_of("grants") == "FAIL"
    assert "SELECT ON `mysql`.* (another database)" in run.line("grants")


def test_a_database_without_portico_tables_fails_with_run_migrate(
    mariadb: MariaDB, link_keys: Path, tmp_path: Path
) -> None:
    name = f"portico_t_{secrets.token_hex(5)}"
    run_as_admin(mariadb.settings(""), f"CREATE DATABASE `{name}`")
    try:
        path = config_for(tmp_path, link_keys, mariadb.settings(name))
        run = check(path)
    finally:
        run_as_admin(mariadb.settings(""), f"DROP DATABASE `{name}`")

    schema = run.line("schema")
    assert run.status == 1
    assert schema.startswith("FAIL  schema       Portico's tables are not there yet")
    assert f"fix: run `portico-agent migrate --config {path}`" in schema


def test_a_migration_not_applied_is_named(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    run_as_admin(practice_db, "DELETE FROM portal_migrations WHERE version = 4")

    run = check(config_for(tmp_path, link_keys, practice_db))

    schema = run.line("schema")
    assert "migrations not applied: 0004_portal_outbox" in schema
    assert "run `portico-agent migrate" in schema


def test_a_migration_this_release_does_not_know_means_upgrade(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    run_as_admin(
        practice_db,
        "INSERT INTO portal_migrations (version, name, checksum) VALUES (9999, 'future', 'x')",
    )

    run = check(config_for(tmp_path, link_keys, practice_db))

    schema = run.line("schema")
    assert "migrated by a newer Portico (9999_future)" in schema
    assert "upgrade this agent" in schema


def test_a_wrong_password_fails_and_skips_what_needs_the_database(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with database_user(practice_db) as user:
        wrong = DatabaseSettings(
            host=user.host, port=user.port, name=user.name, user=user.user, password="nope-" * 4
        )
        run = check(config_for(tmp_path, link_keys, wrong))

    assert run.status == 1
    assert run.line("database").startswith("FAIL  database     the database at 127.0.0.1:")
    assert f"refused '{user.user}'@'127.0.0.1'" in run.line("database")
    assert run.line("schema").startswith("SKIP  schema       not checked")
    assert run.line("grants").startswith("SKIP  grants       not checked")


def test_an_unknown_database_name_fails_with_its_name(
    mariadb: MariaDB, link_keys: Path, tmp_path: Path
) -> None:
    run = check(config_for(tmp_path, link_keys, mariadb.settings("no_such_practice_db")))

    assert "there is no database named no_such_practice_db" in run.line("database")
    assert "set database.name" in run.line("database")


def test_nothing_listening_on_the_database_port_fails(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with pytest.raises(pymysql.MySQLError):  # the premise: nothing answers there
        pymysql.connect(host="127.0.0.1", port=1, connect_timeout=1)
    closed = DatabaseSettings(host="127.0.0.1", port=1, name="x", user="portico", password="")

    run = check(config_for(tmp_path, link_keys, closed))

    assert run.line("database").startswith("FAIL  database     nothing answers as a database")
