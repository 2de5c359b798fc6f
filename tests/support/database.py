"""A throwaway MariaDB database for the test session.

Tests use the real database (see CONVENTIONS.md). If it cannot be reached the suite fails: a
skipped database test would pass without proving anything.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pymysql
import pytest


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
        return _connect(self.host, self.port, self.user, self.password, self.database)


def _connect(
    host: str, port: int, user: str, password: str, database: str | None = None
) -> pymysql.connections.Connection:
    return pymysql.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        database=database,
        charset="utf8mb4",
        connect_timeout=5,
        autocommit=True,
    )


@contextmanager
def throwaway_database() -> Iterator[MariaDB]:
    host = os.environ.get("PORTICO_TEST_DB_HOST", "127.0.0.1")
    port = int(os.environ.get("PORTICO_TEST_DB_PORT", "3306"))
    user = os.environ.get("PORTICO_TEST_DB_USER", "root")
    password = os.environ.get("PORTICO_TEST_DB_PASSWORD", "")
    try:
        server = _connect(host, port, user, password)
    except pymysql.MySQLError as exc:
        reason = exc  # failed outside the except block, so no chained traceback hides the message
    else:
        reason = None
    if reason is not None:
        pytest.fail(
            f"MariaDB is not reachable at {user}@{host}:{port} ({reason}). "
            "Run scripts/ensure-mariadb.sh, or set PORTICO_TEST_DB_HOST, PORTICO_TEST_DB_PORT, "
            "PORTICO_TEST_DB_USER and PORTICO_TEST_DB_PASSWORD.",
            pytrace=False,
        )
    name = f"portico_test_{secrets.token_hex(6)}"
    with server, server.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield MariaDB(host=host, port=port, user=user, password=password, database=name)
    finally:
        # A new connection: the session may well have outlived the server's wait_timeout.
        with _connect(host, port, user, password) as server, server.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
