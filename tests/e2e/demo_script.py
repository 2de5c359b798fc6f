"""`make demo` as a person runs it: scripts/demo.sh in a child process, with its own state
folder, database and ports (the PORTICO_DEMO_* settings), so a test never touches a
developer's .demo/ or portico_demo and can run beside another demo on the same machine.

The database server is the test session's MariaDB (PORTICO_TEST_DB_*); the database is a
fresh `portico_test_demo_*` one, dropped at the end with `scripts/demo.sh reset`, and once
more directly in case the script could not.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

from tests.support.database import MariaDB, connect
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "demo.sh"
LOGIN = re.compile(r"demo patient login: (\S+@\S+) / (.+)$", re.MULTILINE)
URL = re.compile(r"Patient portal:\s+(http://demo\.localhost:\d+/)")
READY = "Press Ctrl-C to stop everything."


@dataclass
class Demo:
    """Where one demo lives: the environment scripts/demo.sh reads, and what it printed."""

    server: MariaDB
    state: Path
    database: str = field(default_factory=lambda: f"portico_test_demo_{secrets.token_hex(5)}")
    ports: dict[str, int] = field(
        default_factory=lambda: {
            name: free_port() for name in ("link", "web", "agent_metrics", "proxy_metrics")
        }
    )

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PORTICO_DEMO_DIR": str(self.state),
            "PORTICO_DEMO_DB": self.database,
            "PORTICO_DEMO_PORT": str(self.ports["link"]),
            "PORTICO_DEMO_WEB_PORT": str(self.ports["web"]),
            "PORTICO_DEMO_AGENT_METRICS_PORT": str(self.ports["agent_metrics"]),
            "PORTICO_DEMO_PROXY_METRICS_PORT": str(self.ports["proxy_metrics"]),
            "PORTICO_TEST_DB_HOST": self.server.host,
            "PORTICO_TEST_DB_PORT": str(self.server.port),
            "PORTICO_TEST_DB_USER": self.server.user,
            "PORTICO_TEST_DB_PASSWORD": self.server.password,
        }

    def once(self) -> subprocess.CompletedProcess[str]:
        """`PORTICO_DEMO_ONCE=1 scripts/demo.sh`: set up, check the portal answers, stop."""
        return subprocess.run(
            [str(SCRIPT)],
            env={**self.env, "PORTICO_DEMO_ONCE": "1"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    @property
    def log(self) -> Path:
        """Where the running demo's stderr (the JSON logs of agent and portal) goes."""
        return self.state.with_name(self.state.name + "-stderr.log")

    def reset(self) -> subprocess.CompletedProcess[str]:
        """What `make demo-reset` runs (without make's venv and database set-up steps)."""
        return subprocess.run(
            [str(SCRIPT), "reset"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def connect(self, *, server_only: bool = False) -> pymysql.connections.Connection:
        """A connection to the demo's database (or only to the server), autocommitting."""
        return connect(self.server.settings(self.database), dict_rows=True, server_only=server_only)

    def database_exists(self) -> bool:
        with self.connect(server_only=True) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW DATABASES LIKE %s", (self.database,))
            return cursor.fetchone() is not None

    def drop(self) -> None:
        with self.connect(server_only=True) as connection, connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{self.database}`")


@dataclass
class Running:
    """A demo started as `make demo` starts it, up and serving."""

    process: subprocess.Popen[str]
    output: str  # everything it printed up to "Press Ctrl-C"
    url: str
    login: str
    password: str


@contextmanager
def running_demo(demo: Demo, *, timeout: float = 240) -> Iterator[Running]:
    """scripts/demo.sh until it prints the portal's address; stopped with SIGINT (Ctrl-C)."""
    log = demo.log.open("a")
    process = subprocess.Popen(
        [str(SCRIPT)],
        env=demo.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # Ctrl-C at the test's terminal is for pytest, not the demo
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while READY not in "".join(lines):
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"demo.sh ended before it was ready:\n{''.join(lines)}")
            lines.append(line)
            assert time.monotonic() < deadline, f"demo.sh not ready:\n{''.join(lines)}"
        output = "".join(lines)
        url, login = URL.search(output), LOGIN.search(output)
        assert url is not None and login is not None, output
        yield Running(process, output, url[1], login[1], login[2].strip())
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        log.close()


@contextmanager
def demo_beside_others(server: MariaDB, state: Path) -> Iterator[Demo]:
    """A demo's settings; afterwards its database and state folder are gone."""
    demo = Demo(server, state)
    try:
        yield demo
    finally:
        demo.reset()
        demo.drop()
