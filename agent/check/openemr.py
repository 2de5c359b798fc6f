"""The database items of ``portico-agent check`` for ``practice.system: openemr``.

The connection is made as the daemon makes it: the configured user, Portico's own database
(``database.portal_name``) as the default, OpenEMR's tables named with their database. Items:

- ``database``: reached, and Portico's database exists and may be used;
- ``openemr``: ``database.name`` is an OpenEMR database (its ``version`` table), the version
  Portico was tested with (another one warns);
- ``schema``: Portico's migrations in its own database;
- ``grants``: each right of :func:`agent.check.openemr_grants.openemr_needs` *probed* with a
  statement that cannot change a row (``SELECT ... LIMIT 0``; ``INSERT ... SELECT ... WHERE
  FALSE``, ``UPDATE ... WHERE FALSE``, ``DELETE ... WHERE FALSE``, each inside a transaction that
  is rolled back), and rights beyond them read from SHOW GRANTS;
- ``openemr tz``: OpenEMR's ``gbl_time_zone`` against ``practice.timezone``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pymysql

from agent.check.database import (
    DatabaseReport,
    clock_offset,
    connect_as_configured,
    grant_lines,
    portico_tables,
    schema_item,
    seen_host,
    who,
    wider_than_needed,
)
from agent.check.openemr_grants import (
    Need,
    grant_statements,
    judge_openemr_grants,
    migrate_statements,
    openemr_needs,
)
from agent.check.refusals import (
    DB_ACCESS_DENIED,
    UNKNOWN_DATABASE,
    connect_failure,
    error_code,
    error_reason,
)
from agent.clock import Clock
from agent.config import AgentConfig
from agent.openemr.store.tables import Tables
from protocol.service.check_report import CheckResult, Status, fail, ok, skip, warn

# What docs/openemr.md and the README of issue 13 were written against.
TESTED_VERSION = (8, 2, 0)
TESTED_DATABASE = 541
_NO_SUCH_TABLE, _DENIED = 1146, 1142
# A strict server refuses the INSERT probe for the columns it leaves out (1364, no default)
# only after the rights were checked (1142 comes first): the right is there.
_PAST_THE_RIGHTS = frozenset({1364})
_GUIDE = "docs/openemr.md, step 4"
_ZONE_SETTING = "Administration > Globals > Locale > Time Zone"


def check_openemr_database(config: AgentConfig, config_path: str, clock: Clock) -> DatabaseReport:
    db = config.database
    try:
        password = db.password_value()
    except OSError as exc:
        return _unreached(
            fail(
                "database",
                f"cannot read database.password_file {db.password_file}: {exc.strerror or exc}",
                fix=("create it, readable by the agent's user: see the files item",),
            )
        )
    portal_problem: CheckResult | None = None
    try:
        connection = connect_as_configured(config, password, db.portal_name)
    except pymysql.MySQLError as exc:
        if error_code(exc) not in (DB_ACCESS_DENIED, UNKNOWN_DATABASE):
            return _unreached(connect_failure(config, exc))
        portal_problem = _portal_unusable(config, config_path, error_code(exc))
        try:
            connection = connect_as_configured(config, password, None)
        except pymysql.MySQLError:
            return _unreached(portal_problem)
    tables = Tables.of(db.name)
    with connection, connection.cursor() as cursor:
        account, client, version = who(cursor)
        reached = portal_problem or ok(
            "database",
            f"{account} reaches {db.host}:{db.port}, Portico's database {db.portal_name}, "
            f"OpenEMR's {db.name} ({version})",
        )
        openemr = openemr_version(cursor, tables, db.name)
        if portal_problem is None:
            schema = schema_item(cursor, config_path, guide=_GUIDE)
        else:
            schema = skip("schema", f"Portico's database {db.portal_name} cannot be used")
        grants = _grants(cursor, config, account, client, migrated=schema.status is Status.OK)
        zone = openemr_zone(cursor, tables, config.practice.timezone)
        offset = clock_offset(cursor, clock)
    return DatabaseReport([reached, openemr, schema, grants, zone], offset)


def _unreached(result: CheckResult) -> DatabaseReport:
    because = "the database was not reached"
    items = ("openemr", "schema", "grants", "openemr tz")
    return DatabaseReport([result, *(skip(item, because) for item in items)], None)


def _portal_unusable(config: AgentConfig, config_path: str, code: int | None) -> CheckResult:
    db = config.database
    if code == UNKNOWN_DATABASE:
        return fail(
            "database",
            f"there is no database named {db.portal_name} (Portico's own) at {db.host}:{db.port}",
            fix=(
                f"run `portico-agent migrate --config {config_path}` as the database "
                f"administrator ({_GUIDE}): it creates {db.portal_name} and Portico's tables",
            ),
        )
    return fail(
        "database",
        f"user {db.user} may not use Portico's database {db.portal_name}",
        fix=("grant it the rights Portico needs: see the grants item",),
    )


def openemr_version(cursor: Any, tables: Tables, name: str) -> CheckResult:
    """The ``openemr`` item: is ``name`` OpenEMR's database, and which version?"""
    try:
        cursor.execute(
            "SELECT v_major, v_minor, v_patch, v_tag, v_database FROM "
            f"{tables.version} ORDER BY v_database DESC LIMIT 1"
        )
        row = cursor.fetchone()
    except pymysql.MySQLError as exc:
        if error_code(exc) == _DENIED:
            return fail(
                "openemr",
                f"this user may not read {tables.version}, so {name} cannot be recognised",
                fix=("grant SELECT on it (see the grants item)",),
            )
        if error_code(exc) != _NO_SUCH_TABLE:
            return fail("openemr", f"cannot read {tables.version}: {error_reason(exc)}")
        row = None
    if row is None:
        return fail(
            "openemr",
            f"database {name} is not an OpenEMR database (it has no version row)",
            fix=(
                "set database.name to OpenEMR's database (its installer calls it openemr; "
                "sites/default/sqlconf.php names it as $dbase)",
            ),
        )
    major, minor, patch, tag, schema = row
    shown = f"OpenEMR {major}.{minor}.{patch}{tag} (database version {schema})"
    if (int(major), int(minor), int(patch)) == TESTED_VERSION and int(schema) == TESTED_DATABASE:
        return ok("openemr", f"{name} is {shown}")
    tested = ".".join(map(str, TESTED_VERSION))
    return warn(
        "openemr",
        f"{name} is {shown}; this Portico was tested with {tested} "
        f"(database version {TESTED_DATABASE}) only",
        fix=(
            "try booking, cancelling and a patient's records on a copy first, and tell your "
            "Portico provider which version you run",
        ),
    )


def openemr_zone(cursor: Any, tables: Tables, practice_zone: str) -> CheckResult:
    """The ``openemr tz`` item: OpenEMR writes naive local times in ``gbl_time_zone``;
    Portico reads them in ``practice.timezone``: the two must name one zone."""
    try:
        cursor.execute(
            f"SELECT gl_value FROM {tables.globals} WHERE gl_name = 'gbl_time_zone'"
            " ORDER BY gl_index LIMIT 1"
        )
        row = cursor.fetchone()
    except pymysql.MySQLError as exc:
        return skip("openemr tz", f"cannot read {tables.globals}: {error_reason(exc)}")
    value = str(row[0]).strip() if row and row[0] is not None else ""
    if not value:
        return ok(
            "openemr tz",
            f"OpenEMR's gbl_time_zone is blank, so OpenEMR uses PHP's date.timezone; Portico "
            f"reads OpenEMR's times as {practice_zone}",
            f"make sure PHP's date.timezone (php.ini) is {practice_zone} too, or set it in "
            f"OpenEMR ({_ZONE_SETTING})",
        )
    if same_zone(value, practice_zone):
        return ok("openemr tz", f"OpenEMR and Portico both use {value}")
    return warn(
        "openemr tz",
        f"OpenEMR's gbl_time_zone is {value} but practice.timezone is {practice_zone}: "
        "Portico would read every appointment time in the wrong zone",
        fix=(
            f"set practice.timezone: {value} in the config (OpenEMR's staff and its rows use "
            f"{value}); only if OpenEMR's own setting is wrong, change it there instead "
            f"({_ZONE_SETTING})",
        ),
    )


def same_zone(first: str, second: str) -> bool:
    """Whether two zone names give the same local time at every hour of the coming year
    (``US/Eastern`` and ``America/New_York`` do); an unknown name never matches."""
    if first == second:
        return True
    try:
        zones = ZoneInfo(first), ZoneInfo(second)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for hour in range(366 * 24):
        moment = start + timedelta(hours=hour)
        if moment.astimezone(zones[0]).utcoffset() != moment.astimezone(zones[1]).utcoffset():
            return False
    return True


def probe(cursor: Any, need: Need) -> int | None:
    """Try ``need`` without changing a row: None if allowed, else MariaDB's error code."""
    table = need.target
    try:
        cursor.execute("START TRANSACTION")
        if need.privilege == "SELECT":
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 0")
        elif need.privilege == "DELETE":
            cursor.execute(f"DELETE FROM {table} WHERE FALSE")
        else:
            column = need.column or _first_column(cursor, need)
            if column is None:
                return _DENIED  # no right on any of its columns: none to probe with
            quoted = "`" + column.replace("`", "``") + "`"
            if need.privilege == "INSERT":
                cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT NULL FROM DUAL WHERE FALSE")
            else:
                cursor.execute(f"UPDATE {table} SET {quoted} = NULL WHERE FALSE")
        return None
    except pymysql.MySQLError as exc:
        code = error_code(exc)
        return None if code in _PAST_THE_RIGHTS else (code or -1)
    finally:
        cursor.execute("ROLLBACK")


def _first_column(cursor: Any, need: Need) -> str | None:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position LIMIT 1",
        (need.database, need.table),
    )
    row = cursor.fetchone()
    return None if row is None else str(row[0])


def _grants(
    cursor: Any, config: AgentConfig, account: str, client: str, *, migrated: bool
) -> CheckResult:
    db = config.database
    portal = [t for t in portico_tables() if t.startswith("portal_")]
    needs = openemr_needs(
        db.name, db.portal_name, portal, notify_provider=config.openemr.notify_provider
    )
    try:
        lines, unreadable = grant_lines(cursor)
    except pymysql.MySQLError as exc:
        return fail("grants", f"cannot read this user's grants: {error_reason(exc)}")
    verdict = judge_openemr_grants(lines, db.name, db.portal_name, needs)
    verdict.too_wide += [f"rights of role(s) {', '.join(unreadable)} could not be read"] * bool(
        unreadable
    )
    first_migrate = () if migrated else ("(a GRANT on a table fails until migrate created it)",)
    wider = wider_than_needed(
        verdict,
        account,
        seen_host(client),
        grants_for=lambda user: grant_statements(needs, user),
        first_migrate=first_migrate,
        migrate=migrate_statements(db.portal_name, account),
    )
    if wider is not None:
        return wider
    outcomes = [(need, probe(cursor, need)) for need in needs]
    absent = [n for n, code in outcomes if code == _NO_SUCH_TABLE and n.database == db.name]
    missing = [n for n, code in outcomes if code is not None and code != _NO_SUCH_TABLE]
    if absent:
        return fail(
            "grants",
            f"OpenEMR's database {db.name} lacks tables Portico reads or writes:",
            details=sorted({n.target for n in absent}),
            fix=("check database.name, and the openemr item for the OpenEMR version",),
        )
    if missing:
        return fail(
            "grants",
            f"{account} lacks {len(missing)} of the {len(needs)} rights Portico needs:",
            details=[f"{need} ({need.why})" for need in missing],
            fix=(
                "as the database administrator run",
                *grant_statements(missing, account),
                *first_migrate,
            ),
        )
    if not migrated:
        return skip("grants", "Portico's tables are not there yet (see the schema item)")
    return ok("grants", f"{account} has each of the {len(needs)} rights Portico needs, no more")
