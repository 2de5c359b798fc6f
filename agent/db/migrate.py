"""Versioned schema migrations: SQL files applied in order, each recorded once.

`NNNN_name.sql` files in agent/db/migrations/ are applied in version order; the table
portal_migrations records each applied version with its checksum. Running again applies only
what is new, and a recorded file whose text changed afterwards is reported, not re-run.
MySQL commits DDL implicitly, so a migration is recorded after all its statements succeed and
its statements are written to be safe to repeat (IF NOT EXISTS).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pymysql

from agent.db.pool import DatabaseSettings

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK = "portico_migrate"


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


def connect(settings: DatabaseSettings) -> pymysql.connections.Connection[Any]:
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        database=settings.name,
        charset="utf8mb4",
        connect_timeout=settings.connect_timeout,
        read_timeout=max(settings.read_timeout, 120),
        autocommit=True,
    )


def apply_migrations(settings: DatabaseSettings) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied (empty if none)."""
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
                for statement in migration.statements():
                    cursor.execute(statement)
                cursor.execute(
                    "INSERT INTO portal_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                applied_now.append(f"{migration.version:04d}_{migration.name}")
            cursor.execute("SELECT RELEASE_LOCK(%s)", (_LOCK,))
    finally:
        connection.close()
    return applied_now
