"""Helpers for the ``portico-agent check`` tests (no tests here).

A config file the command reads, database users made and dropped per test, and readers for
the lines the command prints.
"""

from __future__ import annotations

import dataclasses
import io
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from agent.check.run import run_check
from agent.clock import Clock
from agent.db.pool import DatabaseSettings
from tests.support.database import connect
from tests.support.practice import agent_config_data

_LINE = re.compile(r"^(OK|WARN|FAIL|SKIP)\s+(\S+(?: \S+)?)\s{2,}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(
    directory: Path,
    settings: DatabaseSettings,
    keys: Path,
    *,
    listen_port: int | None = None,
    email: dict[str, Any] | None = None,
    **sections: dict[str, Any],
) -> Path:
    """agent.yaml for the small practice: a free link port, mail into a folder under
    ``directory``, and any section replaced or merged from ``sections``."""
    data = agent_config_data(settings, keys)
    data["listen"]["port"] = listen_port if listen_port is not None else free_port()
    data["email"] = email or {"mode": "folder", "outbox_dir": str(directory / "outbox")}
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    path = directory / "agent.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclasses.dataclass(frozen=True)
class Run:
    status: int
    output: str

    def line(self, item: str) -> str:
        """The first printed line of ``item`` (e.g. "grants"), with its continuation lines."""
        lines = self.output.splitlines()
        for index, line in enumerate(lines):
            match = _LINE.match(line)
            if match and match[2] == item:
                tail = []
                for extra in lines[index + 1 :]:
                    if _LINE.match(extra) or not extra.startswith(" "):
                        break
                    tail.append(extra)
                return "\n".join([line, *tail])
        raise AssertionError(f"no {item!r} line in:\n{self.output}")

    def status_of(self, item: str) -> str:
        return self.line(item).split()[0]

    def statements(self, item: str) -> list[str]:
        """The SQL statements printed in ``item``'s fix, as an admin would copy them."""
        fix = self.line(item).partition(" fix: ")[2]
        return [
            text
            for line in fix.splitlines()
            if re.match(r"^(CREATE USER|GRANT|REVOKE) ", text := line.strip())
        ]


def check(
    path: Path,
    *,
    clock: Clock | None = None,
    timeout: float = 0.5,
    as_user: str = "root",
    **kwargs: Any,
) -> Run:
    """The check as this test run's user reads the files (the service user's view is
    tests/agent/check/test_fix_unreadable_files.py's business)."""
    out = io.StringIO()
    status = run_check(path, out=out, clock=clock, timeout=timeout, as_user=as_user, **kwargs)
    return Run(status, out.getvalue())


def admin_connection(settings: DatabaseSettings) -> Any:
    return connect(settings)


def run_as_admin(settings: DatabaseSettings, *statements: str) -> None:
    connection = admin_connection(settings)
    with connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@contextmanager
def database_user(admin: DatabaseSettings, *grants: str) -> Iterator[DatabaseSettings]:
    """A throwaway user ``'chk_...'@'%'`` with ``grants`` (``{who}`` and ``{db}`` filled in),
    dropped afterwards; yields the settings to connect as it."""
    name = f"chk_{secrets.token_hex(5)}"
    password = secrets.token_urlsafe(18)
    who, db = f"'{name}'@'%'", f"`{admin.name}`"
    run_as_admin(admin, f"CREATE USER {who} IDENTIFIED BY '{password}'")
    try:
        run_as_admin(admin, *(grant.format(who=who, db=db) for grant in grants))
        yield dataclasses.replace(admin, user=name, password=password)
    finally:
        run_as_admin(admin, f"DROP USER IF EXISTS {who}")


@contextmanager
def least_privilege_user(
    admin: DatabaseSettings, keys: Path, directory: Path
) -> Iterator[DatabaseSettings]:
    """A user holding exactly the GRANTs the check prints for one with no rights."""
    with database_user(admin) as user:
        scratch = directory / "no-rights"
        scratch.mkdir()
        printed = check(write_config(scratch, user, keys)).statements("grants")
        run_as_admin(admin, *printed)
        yield user
