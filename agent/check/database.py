"""The database items of ``portico-agent check``: reachable as the configured user, schema
current, grants no wider than needed, and the database server's clock (for the clock item).

One connection, made exactly as the daemon makes its own (host, port, name, user, password
file, timeouts from the config), so "OK" here means the daemon will get in too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

import pymysql

from agent.check.grants import (
    Grant,
    GrantVerdict,
    grant_statements,
    granted_roles,
    judge_grants,
    migrate_statements,
    needed_privileges,
    parse_grant,
    quote_account,
)
from agent.check.refusals import DB_ACCESS_DENIED, connect_failure, error_code, error_reason
from agent.clock import Clock
from agent.config import AgentConfig
from agent.db.migrate import available_migrations
from protocol.service.check_report import CheckResult, Status, fail, ok, skip, warn

_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?", re.IGNORECASE)
_NO_SUCH_TABLE, _TABLE_ACCESS_DENIED = 1146, 1142
_MIGRATE_STEP = "docs/install.md, step 5"
_LIST_AT_MOST = 5  # more missing tables than this: the GRANT statements say it all


@dataclass(frozen=True)
class DatabaseReport:
    results: list[CheckResult]
    """database, schema, grants: in that order."""
    clock_offset: float | None
    """The database server's clock minus this machine's, in seconds; None if not reached."""


def portico_tables() -> list[str]:
    """Every table the shipped migrations create, plus the migrations' own record."""
    tables = {"portal_migrations"}
    for migration in available_migrations():
        tables.update(_CREATE_TABLE.findall(migration.sql))
    return sorted(tables)


def check_database(config: AgentConfig, config_path: str, clock: Clock) -> DatabaseReport:
    db = config.database
    try:
        password = db.password_value()
    except OSError as exc:
        result = fail(
            "database",
            f"cannot read database.password_file {db.password_file}: {exc.strerror or exc}",
            fix=(
                "create it (docs/install.md, step 2), readable by the agent's user: see the "
                "files item",
            ),
        )
        return _unreached(result)
    try:
        connection = connect_as_configured(config, password, db.name)
    except pymysql.MySQLError as exc:
        if error_code(exc) != DB_ACCESS_DENIED:
            return _unreached(connect_failure(config, exc))
        # In, but not into the practice database: the grants item can still say which
        # statements would fix that, so connect without choosing a database.
        denied = connect_failure(config, exc)
        try:
            connection = connect_as_configured(config, password, None)
        except pymysql.MySQLError:
            return _unreached(denied)
        with connection, connection.cursor() as cursor:
            account, client, _ = who(cursor)
            grants = _grants(cursor, db.name, account, client, schema_current=False)
            offset = clock_offset(cursor, clock)
        schema = skip("schema", f"this user may not use database {db.name}")
        return DatabaseReport([denied, schema, grants], offset)
    with connection, connection.cursor() as cursor:
        account, client, version = who(cursor)
        reached = ok(
            "database",
            f"{account} reaches {db.host}:{db.port}, database {db.name} ({version})",
        )
        schema = schema_item(cursor, config_path)
        grants = _grants(
            cursor, db.name, account, client, schema_current=schema.status is Status.OK
        )
        offset = clock_offset(cursor, clock)
    return DatabaseReport([reached, schema, grants], offset)


def connect_as_configured(config: AgentConfig, password: str, database: str | None) -> Any:
    db = config.database
    return pymysql.connect(
        host=db.host,
        port=db.port,
        user=db.user,
        password=password,
        database=database,
        charset="utf8mb4",
        connect_timeout=db.connect_timeout_seconds,
        read_timeout=db.read_timeout_seconds,
        autocommit=True,
    )


def who(cursor: Any) -> tuple[str, str, str]:
    """The account the server matched (``user@host`` pattern, CURRENT_USER()), this client as
    the server sees it (``user@address``, USER()), and the server's version."""
    cursor.execute("SELECT CURRENT_USER(), USER(), VERSION()")
    account, client, version = cursor.fetchone()
    return str(account), str(client), str(version)


def _unreached(result: CheckResult) -> DatabaseReport:
    because = "the database was not reached"
    return DatabaseReport([result, skip("schema", because), skip("grants", because)], None)


def seen_host(client: str) -> str:
    """The host part of USER(): where the server sees this connection come from."""
    return client.rpartition("@")[2]


def schema_item(cursor: Any, config_path: str, *, guide: str = _MIGRATE_STEP) -> CheckResult:
    """Portico's migrations on the connection's default database; ``guide`` is where the
    install guide explains ``migrate``."""
    migrate = (
        f"run `portico-agent migrate --config {config_path}` as the database administrator "
        f"({guide})",
    )
    try:
        cursor.execute("SELECT version, name, checksum FROM portal_migrations")
    except pymysql.MySQLError as exc:
        if error_code(exc) == _NO_SUCH_TABLE:
            return fail("schema", "Portico's tables are not there yet", fix=migrate)
        if error_code(exc) == _TABLE_ACCESS_DENIED:
            return fail(
                "schema",
                "this user may not read portal_migrations, so the schema cannot be compared",
                fix=("grant SELECT on it (see the grants item)",),
            )
        return fail("schema", f"cannot read portal_migrations: {error_reason(exc)}")
    applied = {int(version): (name, checksum) for version, name, checksum in cursor.fetchall()}
    shipped = available_migrations()
    known = {m.version for m in shipped}
    missing = [f"{m.version:04d}_{m.name}" for m in shipped if m.version not in applied]
    changed = [
        f"{m.version:04d}_{m.name}"
        for m in shipped
        if m.version in applied and applied[m.version][1] != m.checksum
    ]
    newer = [f"{v:04d}_{applied[v][0]}" for v in sorted(applied) if v not in known]
    if newer:
        return fail(
            "schema",
            f"the database was migrated by a newer Portico ({', '.join(newer)})",
            fix=(
                "upgrade this agent to the release that applied them (docs/install.md, Upgrading)",
            ),
        )
    if changed:
        return fail(
            "schema",
            f"applied migrations differ from this release's: {', '.join(changed)}",
            fix=(
                "reinstall the Portico release that set up this database, or ask your "
                "Portico provider",
            ),
        )
    if missing:
        return fail(
            "schema",
            f"{len(missing)} of {len(shipped)} migrations not applied: {', '.join(missing)}",
            fix=migrate,
        )
    latest = shipped[-1]
    return ok(
        "schema",
        f"current: {len(shipped)} migrations, the latest {latest.version:04d}_{latest.name}",
    )


def grant_lines(cursor: Any) -> tuple[list[str], list[str]]:
    """Every SHOW GRANTS line for this user and the roles it was given (they can be switched
    on at will, so they count), and the roles whose grants could not be read."""
    cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
    lines = [row[0] for row in cursor.fetchall()]
    seen: set[str] = set()
    unreadable: list[str] = []
    pending = [role for line in lines for role in granted_roles(line)]
    while pending:
        role = pending.pop()
        if role in seen:
            continue
        seen.add(role)
        try:
            cursor.execute("SHOW GRANTS FOR %s", (role,))
        except pymysql.MySQLError:
            unreadable.append(role)
            continue
        for (line,) in cursor.fetchall():
            lines.append(line)
            pending += granted_roles(line)
    return lines, unreadable


def _grants(
    cursor: Any, database: str, account: str, client: str, *, schema_current: bool
) -> CheckResult:
    try:
        lines, unreadable = grant_lines(cursor)
    except pymysql.MySQLError as exc:
        return fail("grants", f"cannot read this user's grants: {error_reason(exc)}")
    grants: list[Grant] = [g for line in lines if (g := parse_grant(line)) is not None]
    needed = needed_privileges(portico_tables())
    verdict = judge_grants(grants, database, needed)
    if unreadable:
        verdict.too_wide.append(f"rights of role(s) {', '.join(unreadable)} could not be read")
    return grants_result(
        verdict,
        database,
        account,
        needed,
        seen_from=seen_host(client),
        schema_current=schema_current,
    )


def grants_result(
    verdict: GrantVerdict,
    database: str,
    account: str,
    needed: dict[str, frozenset[str]],
    *,
    seen_from: str,
    schema_current: bool,
) -> CheckResult:
    """The grants item for a verdict, with the statements that would fix it. ``seen_from`` is
    the host part the server gives this machine's connections (the agent's user is made for
    exactly that host, never for '%')."""
    first_migrate = (
        ()
        if schema_current
        else ("(a GRANT on a table fails until `portico-agent migrate` has created it)",)
    )
    wider = wider_than_needed(
        verdict,
        account,
        seen_from,
        grants_for=lambda user: grant_statements(database, user, needed),
        first_migrate=first_migrate,
        migrate=migrate_statements(database, account),
    )
    if wider is not None:
        return wider
    if verdict.missing:
        lacking = {table: needed[table] for table in verdict.missing}
        details = [
            f"{', '.join(sorted(rights))} ON `{database}`.`{table}`"
            for table, rights in sorted(verdict.missing.items())
        ]
        return fail(
            "grants",
            f"{account} lacks rights Portico needs on {len(lacking)} of {len(needed)} tables"
            + (":" if len(details) <= _LIST_AT_MOST else ""),
            details=details if len(details) <= _LIST_AT_MOST else (),
            fix=(
                "as the database administrator run",
                *grant_statements(database, account, lacking),
                *first_migrate,
            ),
        )
    also = " (and may run `portico-agent migrate`)" if verdict.can_migrate else ""
    return ok("grants", f"{account} has just the rights Portico needs{also}")


class _Breadth(Protocol):
    """What both practice systems' grant verdicts say about rights beyond Portico's needs."""

    too_wide: list[str]
    more_than_needed: list[str]
    administrator: bool


def wider_than_needed(
    verdict: _Breadth,
    account: str,
    seen_from: str,
    *,
    grants_for: Callable[[str], Sequence[str]],
    first_migrate: Sequence[str],
    migrate: Sequence[str],
) -> CheckResult | None:
    """The grants item when ``account`` may do more than Portico needs (an administrator's
    account: make Portico a user of its own; wider rights: narrow them), with the statements
    that fix it; None when it may not. ``grants_for(user)`` is what Portico needs, granted to
    ``user``; ``migrate`` what `portico-agent migrate` needs besides."""
    if verdict.administrator:
        user = "portico@" + seen_from
        return fail(
            "grants",
            f"{account} is an administrator's account; Portico must not run with it:",
            details=verdict.too_wide,
            fix=(
                "give the agent a user of its own; as the database administrator run",
                f"CREATE USER {quote_account(user)} IDENTIFIED BY 'a-long-random-password';",
                *grants_for(user),
                *first_migrate,
                "then set database.user: portico and put that password in database.password_file",
            ),
        )
    if not (verdict.too_wide or verdict.more_than_needed):
        return None
    wording = "far more than" if verdict.too_wide else "more than"
    status = fail if verdict.too_wide else warn
    return status(
        "grants",
        f"{account} may do {wording} Portico needs:",
        details=[*verdict.too_wide, *verdict.more_than_needed],
        fix=(
            "narrow it to what Portico needs; as the database administrator run",
            f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {quote_account(account)};",
            *grants_for(account),
            *first_migrate,
            "(to let this user run `portico-agent migrate` too, add:)",
            *migrate,
        ),
    )


def clock_offset(cursor: Any, clock: Clock) -> float:
    before = time.monotonic()
    local = clock.now()
    cursor.execute("SELECT UTC_TIMESTAMP(6)")
    (server,) = cursor.fetchone()
    # Half the round trip: the server read its clock somewhere in the middle of it.
    local_mid = local.timestamp() + (time.monotonic() - before) / 2
    return float(server.replace(tzinfo=UTC).timestamp() - local_mid)
