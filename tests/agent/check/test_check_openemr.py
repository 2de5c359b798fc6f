"""``portico-agent check`` on an OpenEMR practice, against real MariaDB: an OpenEMR database
(both sql_modes) beside a migrated Portico database, and users holding exactly the GRANTs the
check prints, or one fewer."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
import pytest

from agent.db.migrate import apply_migrations
from agent.db.pool import DatabaseSettings
from agent.openemr import people, queries, records
from tests.agent.check.check_fixtures import Run, check, database_user, run_as_admin, write_config
from tests.support.database import MariaDB
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.rows import add_patient, set_global


@contextmanager
def portal_database(server: MariaDB) -> Iterator[str]:
    """A Portico database beside OpenEMR's, migrated as for the openemr system (portal_*
    tables only); dropped at the end."""
    name = f"portico_p_{secrets.token_hex(5)}"
    run_as_admin(server.settings(""), f"CREATE DATABASE `{name}`")
    try:
        apply_migrations(server.settings(name), system="openemr")
        yield name
    finally:
        run_as_admin(server.settings(""), f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def portal(mariadb: MariaDB) -> Iterator[str]:
    with portal_database(mariadb) as name:
        yield name


def openemr_check(
    tmp_path: Path,
    keys: Path,
    user: DatabaseSettings,
    openemr: str,
    portal: str,
    zone: str = "America/New_York",
    **openemr_section: Any,
) -> Run:
    directory = tmp_path / secrets.token_hex(3)
    directory.mkdir()
    path = write_config(
        directory,
        user,
        keys,
        practice={"system": "openemr", "timezone": zone},
        database={"name": openemr, "portal_name": portal},
        openemr=openemr_section,
    )
    return check(path)


@contextmanager
def printed_user(
    db: OpenEMRDatabase, portal: str, keys: Path, tmp_path: Path, **openemr: Any
) -> Iterator[tuple[DatabaseSettings, list[str]]]:
    """A user given exactly the GRANTs the check prints for a user with no rights."""
    with database_user(db.settings) as nobody:
        first = openemr_check(tmp_path, keys, nobody, db.settings.name, portal, **openemr)
        printed = first.statements("grants")
        run_as_admin(db.settings, *printed)
        yield nobody, printed


def test_the_printed_grants_pass_and_are_least_privilege(
    openemr_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    name = openemr_db.settings.name
    with printed_user(openemr_db, portal, link_keys, tmp_path) as (user, printed):
        run = openemr_check(tmp_path, link_keys, user, name, portal)

    assert run.status_of("grants") == "OK", run.output
    assert run.status_of("database") == run.status_of("schema") == "OK", run.output
    assert run.line("openemr").startswith(
        f"OK    openemr      {name} is OpenEMR 8.2.0-dev (database version 541)"
    )
    who = f"'{user.user}'@'%'"
    assert f"GRANT SELECT ON `{name}`.`version` TO {who};" in printed
    assert f"GRANT SELECT, INSERT, UPDATE ON `{name}`.`openemr_postcalendar_events` TO {who};" in (
        printed
    )
    assert (
        f"GRANT SELECT, UPDATE (`allow_patient_portal`) ON `{name}`.`patient_data` TO {who};"
        in printed
    )
    assert f"GRANT SELECT, INSERT ON `{portal}`.`portal_audit` TO {who};" in printed
    on_openemr = [s for s in printed if f" ON `{name}`." in s]
    assert len(on_openemr) == 18  # the tables Portico reads, by hand from agent/openemr/*.py
    assert not any("pnotes" in s for s in printed)  # notify_provider is off
    assert not any(w in s for s in printed for w in ("DELETE ON `" + name, "ALL", "*.*", "DROP"))


def test_notify_provider_adds_insert_on_pnotes_only(
    openemr_strict_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    name = openemr_strict_db.settings.name
    with printed_user(openemr_strict_db, portal, link_keys, tmp_path, notify_provider=True) as (
        user,
        printed,
    ):
        run = openemr_check(tmp_path, link_keys, user, name, portal, notify_provider=True)

    assert f"GRANT INSERT ON `{name}`.`pnotes` TO '{user.user}'@'%';" in printed
    assert run.status_of("grants") == "OK", run.output


def test_a_revoked_right_is_named_with_the_grant_that_restores_it(
    openemr_strict_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    name = openemr_strict_db.settings.name
    with printed_user(openemr_strict_db, portal, link_keys, tmp_path) as (user, _):
        who = f"'{user.user}'@'%'"
        run_as_admin(
            openemr_strict_db.settings,
            f"REVOKE UPDATE (`allow_patient_portal`) ON `{name}`.`patient_data` FROM {who}",
            f"REVOKE INSERT ON `{name}`.`openemr_postcalendar_events` FROM {who}",
        )
        run = openemr_check(tmp_path, link_keys, user, name, portal)

    grants = run.line("grants")
    assert run.status == 1
    assert grants.startswith(f"FAIL  grants       {user.user}@% lacks 2 of the ")
    assert f"INSERT ON `{name}`.`openemr_postcalendar_events` (bookings" in grants
    assert f"UPDATE (`allow_patient_portal`) ON `{name}`.`patient_data`" in grants
    assert run.statements("grants") == [
        f"GRANT INSERT ON `{name}`.`openemr_postcalendar_events` TO {who};",
        f"GRANT UPDATE (`allow_patient_portal`) ON `{name}`.`patient_data` TO {who};",
    ]


def test_the_probes_write_nothing(
    openemr_strict_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    def counts() -> list[Any]:
        rows = openemr_strict_db.query(
            "SELECT (SELECT COUNT(*) FROM openemr_postcalendar_events) AS e,"
            " (SELECT GROUP_CONCAT(allow_patient_portal) FROM patient_data) AS p"
        )
        return list(rows[0].values())

    before = counts()
    with printed_user(openemr_strict_db, portal, link_keys, tmp_path) as (user, _):
        run = openemr_check(tmp_path, link_keys, user, openemr_strict_db.settings.name, portal)

    assert run.status_of("grants") == "OK", run.output
    assert counts() == before


def test_writes_on_openemr_beyond_the_set_fail(
    openemr_strict_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    name = openemr_strict_db.settings.name
    with printed_user(openemr_strict_db, portal, link_keys, tmp_path) as (user, _):
        run_as_admin(
            openemr_strict_db.settings,
            f"GRANT UPDATE, DELETE ON `{name}`.`patient_data` TO '{user.user}'@'%'",
            f"GRANT SELECT ON `{name}`.* TO '{user.user}'@'%'",
        )
        run = openemr_check(tmp_path, link_keys, user, name, portal)

    grants = run.line("grants")
    assert grants.startswith("FAIL  grants ")
    assert f"DELETE ON `{name}`.`patient_data` (Portico must not have it)" in grants
    assert f"UPDATE ON `{name}`.`patient_data` (every column; one is needed)" in grants
    assert f"SELECT ON `{name}`.`*`" not in grants  # shown as the database, below
    assert f"SELECT ON `{name}`.* (every OpenEMR table)" in grants


def test_a_database_that_is_not_openemr_is_named_so(
    mariadb: MariaDB, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    plain = f"plain_{secrets.token_hex(4)}"
    run_as_admin(mariadb.settings(""), f"CREATE DATABASE `{plain}`")
    try:
        run = openemr_check(tmp_path, link_keys, mariadb.settings(plain), plain, portal)
    finally:
        run_as_admin(mariadb.settings(""), f"DROP DATABASE `{plain}`")

    item = run.line("openemr")
    assert item.startswith(f"FAIL  openemr      database {plain} is not an OpenEMR database")
    assert "set database.name to OpenEMR's database" in item


def test_another_openemr_version_warns_untested(
    openemr_strict_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    run_as_admin(openemr_strict_db.settings, "UPDATE version SET v_minor = 3, v_database = 560")

    run = openemr_check(
        tmp_path, link_keys, openemr_strict_db.settings, openemr_strict_db.settings.name, portal
    )

    item = run.line("openemr")
    assert item.startswith("WARN  openemr ")
    assert "OpenEMR 8.3.0-dev (database version 560); this Portico was tested with 8.2.0" in item


@pytest.mark.parametrize(
    ("openemr_zone", "status", "words"),
    [
        ("America/Chicago", "WARN", "set practice.timezone: America/Chicago"),
        ("US/Eastern", "OK", "both use US/Eastern"),
        ("", "OK", "PHP's date.timezone"),
    ],
)
def test_openemr_time_zone_against_practice_timezone(
    openemr_strict_db: OpenEMRDatabase,
    portal: str,
    link_keys: Path,
    tmp_path: Path,
    openemr_zone: str,
    status: str,
    words: str,
) -> None:
    set_global(openemr_strict_db, "gbl_time_zone", openemr_zone)

    run = openemr_check(
        tmp_path,
        link_keys,
        openemr_strict_db.settings,
        openemr_strict_db.settings.name,
        portal,
        zone="America/New_York",
    )

    item = run.line("openemr tz")
    assert item.startswith(f"{status:<4}  openemr tz   "), run.output
    assert words in item


def test_a_missing_portico_database_says_run_migrate(
    openemr_strict_db: OpenEMRDatabase, link_keys: Path, tmp_path: Path
) -> None:
    absent = f"portico_absent_{secrets.token_hex(4)}"
    settings = openemr_strict_db.settings

    run = openemr_check(tmp_path, link_keys, settings, settings.name, absent)

    item = run.line("database")
    assert item.startswith(f"FAIL  database     there is no database named {absent}")
    assert "run `portico-agent migrate --config" in item
    assert run.status_of("openemr") == "OK"  # OpenEMR's side is still checked


def test_unapplied_migrations_say_run_migrate(
    openemr_strict_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    run_as_admin(
        dataclasses.replace(openemr_strict_db.settings, name=portal),
        "DELETE FROM portal_migrations WHERE version = 10",
    )
    settings = openemr_strict_db.settings

    run = openemr_check(tmp_path, link_keys, settings, settings.name, portal)

    assert "migrations not applied: 0010_portal_registrations" in run.line("schema")
    assert "(docs/openemr.md, step 4)" in run.line("schema")


def test_the_printed_grants_let_the_read_queries_run(
    openemr_db: OpenEMRDatabase, portal: str, link_keys: Path, tmp_path: Path
) -> None:
    # The reads name OpenEMR's tables with their database; run them with Portico's own database
    # as the default, as the agent does, as that user.
    add_patient(openemr_db, 1)
    with printed_user(openemr_db, portal, link_keys, tmp_path) as (user, _):
        connection = pymysql.connect(
            host=user.host,
            port=user.port,
            user=user.user,
            password=user.password,
            database=portal,
            cursorclass=pymysql.cursors.DictCursor,
        )
        with connection, connection.cursor() as cursor:
            t = openemr_db.tables
            queries.practice_calendar_settings(cursor, tables=t)
            queries.providers(cursor, scheduled_from=date(2030, 1, 1), tables=t)
            queries.appointment_categories(cursor, tables=t)
            people.patient_identity(cursor, 1, tables=t)
            people.patients_born_on(cursor, date(1980, 1, 1), tables=t)
            people.patient_appointments(cursor, 1, date(2030, 1, 1), tables=t)
            people.patient_appointment(cursor, 1, 1, tables=t)
            queries.calendar_events(cursor, ["1"], date(2030, 1, 1), date(2030, 1, 14), tables=t)
            chart = records.clinical_record(
                cursor, 1, tables=t, zone=ZoneInfo("America/New_York"), now=datetime.now(UTC)
            )
            with pytest.raises(pymysql.MySQLError) as denied:
                cursor.execute("DELETE FROM openemr_postcalendar_events WHERE FALSE")
    assert chart is not None and chart.patient is not None  # the reads reached the chart
    assert denied.value.args[0] == 1142  # the premise: this user is really limited
