"""A throwaway OpenEMR database for tests: OpenEMR's tables (schema.sql), the rows its installer
leaves, and the session sql_mode Portico's connections run under.

The schema lives in a plain `.sql` file rather than Python strings: it is the language OpenEMR
declares it in, so a reader can hold it next to OpenEMR's `sql/database.sql` line by line (each
table cites its range) and load it by hand with the `mysql` client when a test fails.

Two sql_modes matter (README of issue 13, section 1):

- OpenEMR's own: every OpenEMR connection runs `SET sql_mode = ''`
  (src/BC/DatabaseConnectionFactory.php:69-70,133), so its INSERTs may leave NOT NULL columns out
  and send `''` to integer columns.
- MariaDB's default since 10.2.4, strict: what a stock server gives any client that does not
  change its session, Portico included.

`openemr_database(server, sql_mode)` makes the database and, while it exists, makes every new
PyMySQL connection of the process (the agent's pool as much as the test's) start in `sql_mode`,
as a server configured with that global mode would; a connection that names its own
`init_command` keeps it. Rows built by `tests.support.openemr.rows` are always written in
OpenEMR's mode, because that is how OpenEMR writes them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors
import pytest

from agent.db.pool import DatabaseSettings
from agent.openemr.tables import Tables
from tests.support.database import MariaDB

SCHEMA = Path(__file__).with_name("schema.sql")

OPENEMR_SQL_MODE = ""
STRICT_SQL_MODE = (
    "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
)
# Test ids for the two modes, in the order the parametrised fixture runs them.
SQL_MODES = {"openemr-sql-mode": OPENEMR_SQL_MODE, "strict-sql-mode": STRICT_SQL_MODE}


def schema_statements() -> list[str]:
    """The CREATE TABLE statements of schema.sql, in order."""
    text = re.sub(r"(?m)^--.*$", "", SCHEMA.read_text(encoding="utf-8"))
    return [part.strip() for part in re.split(r";\s*$", text, flags=re.M) if part.strip()]


def schema_tables() -> list[str]:
    """The names of the tables schema.sql declares, in order."""
    return [re.findall(r"CREATE TABLE `(\w+)`", stmt)[0] for stmt in schema_statements()]


def _init_command(sql_mode: str) -> str:
    return f"SET SESSION sql_mode = '{sql_mode}'"


@dataclass(frozen=True)
class OpenEMRDatabase:
    """One OpenEMR database on the test server, and the sql_mode the code under test gets."""

    server: MariaDB
    settings: DatabaseSettings  # OpenEMR's database, as Portico's config would name it
    sql_mode: str

    def connect(self, sql_mode: str | None = None) -> pymysql.connections.Connection[Any]:
        """An autocommit utf8mb4 connection with dict rows, in `sql_mode` (default: the
        database's own)."""
        s = self.settings
        return pymysql.connect(
            host=s.host,
            port=s.port,
            user=s.user,
            password=s.password,
            database=s.name,
            charset="utf8mb4",
            cursorclass=pymysql.cursors.DictCursor,
            autocommit=True,
            init_command=_init_command(self.sql_mode if sql_mode is None else sql_mode),
        )

    @property
    def tables(self) -> Tables:
        """Its tables as the agent's SQL names them (qualified with this database's name)."""
        return Tables.of(self.settings.name)

    def as_openemr(self) -> pymysql.connections.Connection[Any]:
        """A connection in the session mode OpenEMR gives all of its own connections."""
        return self.connect(OPENEMR_SQL_MODE)

    def query(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        """Every row `sql` returns, read on a connection of its own."""
        connection = self.connect()
        with connection, connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())


@contextmanager
def sessions_in_sql_mode(sql_mode: str) -> Iterator[None]:
    """Within the block, a PyMySQL connection opened without an `init_command` of its own starts
    with `SET SESSION sql_mode = <sql_mode>`. Test-only: the way to run the agent's unchanged
    connection code against a server in OpenEMR's mode without changing the shared server's
    global mode under the other tests."""
    with pytest.MonkeyPatch.context() as patch:
        real_connect = pymysql.connect

        def connect(*args: Any, **kwargs: Any) -> pymysql.connections.Connection[Any]:
            kwargs.setdefault("init_command", _init_command(sql_mode))
            return real_connect(*args, **kwargs)

        patch.setattr(pymysql, "connect", connect)
        yield


@contextmanager
def openemr_database(server: MariaDB, sql_mode: str) -> Iterator[OpenEMRDatabase]:
    """A new database holding schema.sql's empty tables, created as OpenEMR's installer creates
    its database (utf8mb4, utf8mb4_general_ci) and its tables (in OpenEMR's session mode);
    every connection opened meanwhile runs in `sql_mode`. Dropped at the end."""
    name = f"openemr_t_{secrets.token_hex(5)}"
    db = OpenEMRDatabase(server, server.settings(name), sql_mode)
    with _admin(server) as admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        cursor.execute(f"USE `{name}`")
        for statement in schema_statements():
            cursor.execute(statement)
    try:
        with sessions_in_sql_mode(sql_mode):
            yield db
    finally:
        with _admin(server) as admin, admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def _admin(server: MariaDB) -> pymysql.connections.Connection[Any]:
    """A connection to no database, in OpenEMR's session mode (its installer's)."""
    return pymysql.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        charset="utf8mb4",
        autocommit=True,
        init_command=_init_command(OPENEMR_SQL_MODE),
    )
