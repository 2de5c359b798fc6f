"""PyMySQL connections in a bounded pool, used only from a dedicated thread pool.

PyMySQL is blocking (and the stable driver; aiomysql is broken on current PyMySQL), so every
unit of work — checkout, queries, commit or rollback, return — runs inside one worker call and
the event loop only awaits its result. The thread pool has as many threads as the connection
pool has connections, so a checkout never waits inside a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pymysql
import pymysql.cursors
import structlog

log = structlog.get_logger("portico.db")

T = TypeVar("T")

# Errors that mean "the database is not there right now", as opposed to a bug in our SQL.
# 2003 can't connect, 2006 gone away, 2013 lost connection, 1053 server shutdown,
# 1927 connection killed, 1205 lock wait timeout, 1213 deadlock (retried first), 2055 lost.
_UNAVAILABLE_CODES = frozenset({1040, 1053, 1205, 1213, 1927, 2003, 2006, 2013, 2055})
DEADLOCK = 1213

# Called with the connection once a transaction has ended (Database.after_every_transaction).
AfterTransaction = Callable[["pymysql.connections.Connection[Any]"], None]


class DatabaseUnavailable(Exception):
    """The database cannot be reached or dropped us; the request may be retried later."""


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    host: str
    port: int
    name: str
    user: str
    password: str
    pool_size: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    write_timeout: float = 15.0


class Database:
    """`await db.transaction(fn, *args)` runs fn(cursor, *args) in one transaction."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self._idle: queue.LifoQueue[pymysql.connections.Connection[Any]] = queue.LifoQueue()
        self._executor = ThreadPoolExecutor(
            max_workers=settings.pool_size, thread_name_prefix="portico-db"
        )
        self._lock = threading.Lock()
        self._in_use = 0
        self._closed = False
        # Run after every transaction of this pool (a store's named locks, which outlive
        # COMMIT, must be released whoever opened the transaction).
        self._after_every: list[AfterTransaction] = []

    @property
    def in_use(self) -> int:
        """Connections held by a unit of work right now (for the metrics endpoint)."""
        return self._in_use

    def _count_in_use(self, change: int) -> None:
        with self._lock:  # += is not atomic across the worker threads
            self._in_use += change

    def _connect(self) -> pymysql.connections.Connection[Any]:
        s = self.settings
        connection = pymysql.connect(
            host=s.host,
            port=s.port,
            user=s.user,
            password=s.password,
            database=s.name,
            charset="utf8mb4",
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            write_timeout=s.write_timeout,
            autocommit=False,
            cursorclass=pymysql.cursors.DictCursor,
        )
        with connection.cursor() as cursor:
            # Each statement sees what others committed: after taking a row lock, the checks
            # that follow read the state left by whoever held the lock before.
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cursor.execute("SET time_zone = '+00:00'")  # every DATETIME we store is UTC
        return connection

    def _checkout(self) -> pymysql.connections.Connection[Any]:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._connect()

    def _run(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        attempts: int,
    ) -> T:
        for attempt in range(attempts):
            try:
                connection = self._checkout()
            except pymysql.err.OperationalError as exc:
                raise DatabaseUnavailable(f"cannot connect ({exc.args[0]})") from exc
            self._count_in_use(+1)
            keep = False
            try:
                with connection.cursor() as cursor:
                    result = fn(cursor, *args)
                connection.commit()
                keep = True
                return result
            except pymysql.err.MySQLError as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
                keep = _rollback(connection) and code not in _UNAVAILABLE_CODES
                if code == DEADLOCK and attempt + 1 < attempts:
                    log.info("db.deadlock_retry", attempt=attempt + 1)
                    continue
                if code in _UNAVAILABLE_CODES or isinstance(exc, pymysql.err.InterfaceError):
                    raise DatabaseUnavailable(f"database error {code}") from exc
                raise
            except BaseException:
                keep = _rollback(connection)
                raise
            finally:
                # Only on a connection that is kept: closing one ends its session, and with it
                # whatever the session held (named locks).
                for hook in self._after_every:
                    if keep:
                        keep = _after(hook, connection)
                self._count_in_use(-1)
                if keep and not self._closed:
                    self._idle.put(connection)
                elif not keep:
                    _close_quietly(connection)
        raise AssertionError("unreachable")

    def after_every_transaction(self, hook: AfterTransaction) -> None:
        """Run `hook(connection)` once each transaction of this pool has ended (after the
        commit or the rollback of every attempt), on the same connection, before anyone else
        may use it: for what belongs to the session rather than the transaction, such as
        named locks, which COMMIT does not release. Kept connections only (closing one ends
        its session, and so releases them). If it raises, the error is logged and the
        connection is closed instead of reused; the transaction's own result or error
        stands."""
        if hook not in self._after_every:
            self._after_every.append(hook)

    async def transaction(
        self,
        fn: Callable[..., T],
        *args: Any,
        attempts: int = 3,
    ) -> T:
        """Run fn(cursor, *args) in a worker thread inside one transaction; commit if it
        returns, roll back if it raises. Deadlocks are retried; a database that is down or
        drops the connection raises DatabaseUnavailable. The hooks of
        :meth:`after_every_transaction` run once it has ended."""
        if self._closed:
            raise DatabaseUnavailable("database pool is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, fn, args, attempts)

    async def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                break


def _after(hook: AfterTransaction, connection: pymysql.connections.Connection[Any]) -> bool:
    """Run an after-transaction hook; False if it failed (the connection is dropped)."""
    try:
        hook(connection)
        return True
    except Exception as exc:
        # The type only: a driver message may quote the statement and its values.
        log.warning("db.after_transaction_failed", error=type(exc).__name__)
        return False


def _rollback(connection: pymysql.connections.Connection[Any]) -> bool:
    """Roll back; False if the connection is unusable (it is then closed, not reused)."""
    try:
        connection.rollback()
        return True
    except Exception:
        return False


def _close_quietly(connection: pymysql.connections.Connection[Any]) -> None:
    with contextlib.suppress(Exception):
        connection.close()


DUPLICATE_KEY = 1062  # MariaDB/MySQL error: a unique key already holds this value


def is_duplicate_key(exc: BaseException) -> bool:
    """Whether a driver error says a unique key refused the row (two writers raced)."""
    return bool(exc.args) and exc.args[0] == DUPLICATE_KEY
