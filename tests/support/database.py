"""Real MariaDB for tests and benches: the server to use, connections, throwaway databases.

Tests use the real database (see CONVENTIONS.md). If it cannot be reached the suite fails: a
skipped database test would pass without proving anything. The server is root@127.0.0.1:3306
unless PORTICO_TEST_DB_HOST, PORTICO_TEST_DB_PORT, PORTICO_TEST_DB_USER and
PORTICO_TEST_DB_PASSWORD say otherwise; every database made here is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymysql
import pytest

from agent.db.migrate import apply_migrations
from agent.db.pool import DatabaseSettings


@dataclass(frozen=True)
class MariaDB:
    """Where the session's database lives; pass these to the code under test."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def connect(self) -> pymysql.connections.Connection:
        """An autocommit utf8mb4 connection to the session's database."""
        return connect(self.settings(self.database), connect_timeout=5)

    def settings(self, name: str) -> DatabaseSettings:
        """The agent's settings for database `name` on this server, as this user."""
        return DatabaseSettings(
            host=self.host, port=self.port, name=name, user=self.user, password=self.password
        )


def configured_server() -> MariaDB:
    """The server the tests and benches use (PORTICO_TEST_DB_*, else root@127.0.0.1:3306)."""
    return MariaDB(
        host=os.environ.get("PORTICO_TEST_DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("PORTICO_TEST_DB_PORT", "3306")),
        user=os.environ.get("PORTICO_TEST_DB_USER", "root"),
        password=os.environ.get("PORTICO_TEST_DB_PASSWORD", ""),
        database="",
    )


def connect(
    settings: DatabaseSettings,
    *,
    dict_rows: bool = False,
    autocommit: bool = True,
    server_only: bool = False,
    connect_timeout: int = 10,
) -> pymysql.connections.Connection:
    """A utf8mb4 connection to `settings`' database (with `server_only`, to no database);
    rows as dicts with `dict_rows`."""
    return pymysql.connect(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        database=None if server_only or not settings.name else settings.name,
        charset="utf8mb4",
        cursorclass=pymysql.cursors.DictCursor if dict_rows else pymysql.cursors.Cursor,
        autocommit=autocommit,
        connect_timeout=connect_timeout,
    )


def query(settings: DatabaseSettings, sql: str, args: Any = ()) -> list[dict[str, Any]]:
    """Every row `sql` returns, as dicts, on a connection of its own."""
    connection = connect(settings, dict_rows=True)
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def execute(settings: DatabaseSettings, sql: str, args: Any = ()) -> int:
    """Run one statement on a connection of its own (autocommit); the rows it affected."""
    connection = connect(settings, dict_rows=True)
    with connection, connection.cursor() as cursor:
        return int(cursor.execute(sql, args))


@contextmanager
def throwaway_database() -> Iterator[MariaDB]:
    """An empty utf8mb4 database on the test server, dropped at the end; the test fails
    (never skips) if the server cannot be reached."""
    server = configured_server()
    try:
        admin = connect(server.settings(""), connect_timeout=5)
    except pymysql.MySQLError as exc:
        reason = exc  # failed outside the except block, so no chained traceback hides the message
    else:
        reason = None
    if reason is not None:
        pytest.fail(
            f"MariaDB is not reachable at {server.user}@{server.host}:{server.port} ({reason}). "
            "Run scripts/ensure-mariadb.sh, or set PORTICO_TEST_DB_HOST, PORTICO_TEST_DB_PORT, "
            "PORTICO_TEST_DB_USER and PORTICO_TEST_DB_PASSWORD.",
            pytrace=False,
        )
    name = f"portico_test_{secrets.token_hex(6)}"
    with admin, admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield MariaDB(server.host, server.port, server.user, server.password, database=name)
    finally:
        # A new connection: the session may well have outlived the server's wait_timeout.
        with connect(server.settings(""), connect_timeout=5) as admin, admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@contextmanager
def fresh_database(server: MariaDB, prefix: str = "portico_t_") -> Iterator[DatabaseSettings]:
    """A new database on `server`, migrated with the agent's real migrations, dropped at the
    end."""
    name = f"{prefix}{secrets.token_hex(5)}"
    admin = connect(server.settings(""))
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        settings = server.settings(name)
        apply_migrations(settings)
        yield settings
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
