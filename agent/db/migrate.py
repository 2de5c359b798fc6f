"""Versioned schema migrations: SQL files applied in order, each recorded once.

`NNNN_name.sql` files in agent/db/migrations/ are applied in version order; the table
portal_migrations records each applied version with its checksum. Running again applies only
what is new, and a recorded file whose text changed afterwards is reported, not re-run.
MySQL commits DDL implicitly, so a migration is recorded after all its statements succeed and
its statements are written to be safe to repeat (IF NOT EXISTS).

With ``practice.system: openemr`` the same files are applied to Portico's own database
(``database.portal_name``, created here when the user may) in their portal-only form
(agent/db/portal_schema.py): the practice's tables are OpenEMR's, so a migration that only
creates practice tables is recorded with nothing run, and the OpenEMR database is never
touched. Recording it keeps ``portal_migrations`` the same list on both systems, so
``check`` compares it with the shipped files the same way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pymysql

from agent.db.pool import DatabaseSettings
from agent.db.portal_schema import UnclassifiedStatement, portal_statement

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK = "portico_migrate"
# The privileges `migrate` and the agent need on the portal database, for the advice printed
# when the database user may not create it.
_PORTAL_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        lines = [ln for ln in self.sql.splitlines() if not ln.lstrip().startswith("--")]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]

    def statements_for(self, system: str) -> list[str]:
        """What to run for ``practice.system`` `system`: every statement for portico; for
        openemr, the portal-only form of each (agent/db/portal_schema.py)."""
        if system == "portico":
            return self.statements()
        try:
            portal = [portal_statement(s) for s in self.statements()]
        except UnclassifiedStatement as exc:
            raise MigrationError(f"migration {self.version:04d}_{self.name}: {exc}") from None
        return [s for s in portal if s is not None]


class MigrationError(Exception):
    pass


def available_migrations() -> list[Migration]:
    folder = resources.files("agent.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def connect(
    settings: DatabaseSettings, *, server_only: bool = False
) -> pymysql.connections.Connection[Any]:
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        database=None if server_only else settings.name,
        charset="utf8mb4",
        connect_timeout=settings.connect_timeout,
        read_timeout=max(settings.read_timeout, 120),
        autocommit=True,
    )


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def create_portal_database(settings: DatabaseSettings) -> bool:
    """Create Portico's own database `settings.name` if it is missing; True if it was created.
    When the user may not create it, the MigrationError says what the administrator runs."""
    connection = connect(settings, server_only=True)
    try:
        with connection.cursor() as cursor:
            # SCHEMATA lists only what this user has some privilege on: enough, since the
            # user needs privileges there anyway.
            cursor.execute(
                "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                (settings.name,),
            )
            if cursor.fetchone() is not None:
                return False
            cursor.execute("SELECT CURRENT_USER()")
            user, _, host = str(cursor.fetchone()[0]).rpartition("@")
            try:
                cursor.execute(
                    f"CREATE DATABASE IF NOT EXISTS {_quoted(settings.name)}"
                    " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
            except pymysql.err.OperationalError as exc:
                if exc.args[0] not in (1044, 1045, 1227):  # access denied
                    raise
                raise MigrationError(_may_not_create(settings.name, user, host)) from None
    finally:
        connection.close()
    return True


def _may_not_create(database: str, user: str, host: str) -> str:
    account = f"'{user}'@'{host}'"
    return (
        f"Portico's database {database} (database.portal_name) does not exist, and the"
        f" database user {account} may not create it. As the database administrator, run:\n"
        f"  CREATE DATABASE {_quoted(database)} CHARACTER SET utf8mb4"
        " COLLATE utf8mb4_unicode_ci;\n"
        f"  GRANT {_PORTAL_PRIVILEGES} ON {_quoted(database)}.* TO {account};\n"
        "then run `portico-agent migrate` again (or run migrate as the administrator)."
    )


def apply_migrations(settings: DatabaseSettings, system: str = "portico") -> list[str]:
    """Apply every migration not yet recorded to `settings.name`; returns the names applied
    (empty if none). `system` is ``practice.system``: for openemr, `settings.name` is the
    portal database (created if missing), and a migration with nothing for it is named with
    " (practice tables: none here)"."""
    if system != "portico":
        create_portal_database(settings)
    connection = connect(settings)
    applied_now: list[str] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 60)", (_LOCK,))
            if cursor.fetchone() != (1,):
                raise MigrationError("another migration is running; try again in a minute")
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS portal_migrations ("
                " version INT UNSIGNED NOT NULL PRIMARY KEY,"
                " name VARCHAR(200) NOT NULL,"
                " checksum CHAR(64) NOT NULL,"
                " applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
            cursor.execute("SELECT version, checksum FROM portal_migrations")
            recorded = {int(v): c for v, c in cursor.fetchall()}
            for migration in available_migrations():
                known = recorded.get(migration.version)
                if known is not None:
                    if known != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{migration.name} was changed "
                            "after it was applied; add a new migration instead"
                        )
                    continue
                statements = migration.statements_for(system)
                for statement in statements:
                    cursor.execute(statement)
                cursor.execute(
                    "INSERT INTO portal_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                note = "" if statements else " (practice tables: none here)"
                applied_now.append(f"{migration.version:04d}_{migration.name}{note}")
            cursor.execute("SELECT RELEASE_LOCK(%s)", (_LOCK,))
    finally:
        connection.close()
    return applied_now
