"""A MariaDB server of the test's own, on a data directory in tmp_path, that it may stop.

Stopping the shared server at 127.0.0.1:3306 would break every other test; this one belongs to
a single test: `mariadb-install-db` makes its system tables, `mariadbd` serves them on a free
loopback port (and a socket in the directory), and the test stops it with SIGTERM and starts
it again on the same data directory and port, as an office's server restart does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql

from agent.db.migrate import apply_migrations
from agent.db.pool import DatabaseSettings
from tests.support.daemons import PATIENCE
from tests.support.database import MariaDB, connect
from tests.support.ports import free_port
from tests.support.practice import seed_small_practice


def _program(name: str) -> str:
    # Debian installs the server in /usr/sbin, which is not on every user's PATH.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    assert found, f"{name} not found: install mariadb-server"
    return found


def _as_root() -> list[str]:
    # mariadbd refuses to run as root unless told to; as anyone else it runs as that user.
    return ["--user=root"] if os.geteuid() == 0 else []


class PrivateMariaDB:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.datadir = directory / "data"
        self.port = free_port()
        self.log = directory / "mariadbd.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> MariaDB:
        """Connection details as tests/support/database.py gives them (any user: grants are off)."""
        return MariaDB(host="127.0.0.1", port=self.port, user="root", password="", database="")

    def small_practice(self, name: str = "practice") -> DatabaseSettings:
        """A migrated database holding tests/support/practice.py's small practice. Never dropped:
        the whole server goes away with the test's directory."""
        admin = connect(self.server.settings(""))
        with admin, admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        settings = self.server.settings(name)
        apply_migrations(settings)
        seed_small_practice(settings)
        return settings

    def install(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                _program("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *_as_root(),
            ],
            check=True,
            capture_output=True,
            timeout=PATIENCE,
        )

    def start(self) -> None:
        """Start on the data directory and port, and return once it answers."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    _program("mariadbd"),
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    f"--socket={self.directory / 'mariadbd.sock'}",
                    f"--pid-file={self.directory / 'mariadbd.pid'}",
                    "--bind-address=127.0.0.1",
                    f"--port={self.port}",
                    # Nobody but this test reaches a loopback port of a throwaway server.
                    "--skip-grant-tables",
                    "--skip-name-resolve",
                    "--innodb-buffer-pool-size=32M",
                    "--innodb-log-file-size=16M",
                    *_as_root(),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self._until_answering()

    def _until_answering(self) -> None:
        deadline = time.monotonic() + PATIENCE
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"mariadbd exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                connect(self.server.settings(""), connect_timeout=2).close()
                return
            except pymysql.err.OperationalError:
                assert time.monotonic() < deadline, f"mariadbd never answered:\n{self.tail()}"
                time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, then wait until the server has shut down and exited."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"mariadbd ignored SIGTERM:\n{self.tail()}") from None

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def private_mariadb(directory: Path) -> Iterator[PrivateMariaDB]:
    """A freshly installed private server, running; stopped (whatever happened) at the end."""
    server = PrivateMariaDB(directory)
    server.install()
    try:
        server.start()
        yield server
    finally:
        server.stop()
