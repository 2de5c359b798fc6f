"""Issue 11: "The demo: metrics ports cannot be moved (two demos on one machine log errors); a
rerun prints a stale login after the patient changed it; no documented way to reset the demo.
Add `make demo-reset` (or equivalent) and document it."

scripts/demo.sh runs as `make demo` runs it, with its own state folder, database and ports,
while the default metrics ports are held by someone else (as another demo on the machine
would hold them).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from agent.access.passwords import PasswordHasher
from agent.demo.login import DEMO_PASSWORD
from tests.e2e.demo_script import LOGIN, ROOT, demo_beside_others, running_demo
from tests.support.database import MariaDB

DEFAULT_METRICS_PORTS = (9123, 9124)
NEW_PASSWORD = "tangerine-viaduct-harmonica-42"


@contextmanager
def ports_taken(ports: tuple[int, ...]) -> Iterator[None]:
    """Listen on `ports`, as another demo would; a port someone already holds stays theirs."""
    with ExitStack() as stack:
        for port in ports:
            holder = stack.enter_context(socket.socket())
            try:
                holder.bind(("127.0.0.1", port))
                holder.listen()
            except OSError:
                pass  # held already: by another demo or agent on this machine
        yield


def error_lines(log: Path) -> list[str]:
    found = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            found.append(line)  # not a log line: a traceback or a shell error
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
            found.append(line)
    return found


def _change_password(connection: Any, login: str) -> None:
    hasher = PasswordHasher()
    try:
        hashed = asyncio.run(hasher.hash(NEW_PASSWORD))
    finally:
        hasher.close()
    with connection.cursor() as cursor:
        changed = cursor.execute(
            "UPDATE portal_accounts SET password_hash = %s WHERE login_email = %s",
            (hashed, login),
        )
    assert changed == 1


def test_the_demo_moves_its_metrics_ports_never_prints_a_dead_login_and_resets(
    mariadb: MariaDB, tmp_path: Path
) -> None:
    with demo_beside_others(mariadb, tmp_path / "demo") as demo:
        with ports_taken(DEFAULT_METRICS_PORTS), running_demo(demo) as running:
            assert (running.login.endswith("@example.org"), running.password) == (
                True,
                DEMO_PASSWORD,
            )
            for name in ("agent_metrics", "proxy_metrics"):
                with urlopen(f"http://127.0.0.1:{demo.ports[name]}/metrics", timeout=10) as r:
                    assert r.status == 200
                    assert b"# TYPE" in r.read()
            # The patient changes the password in the portal.
            with demo.connect() as connection:
                _change_password(connection, running.login)
        assert error_lines(demo.log) == []

        rerun = demo.once()
        assert rerun.returncode == 0, rerun.stderr
        assert DEMO_PASSWORD not in rerun.stdout + rerun.stderr
        assert "changed in the portal" in rerun.stdout
        assert "make demo-reset" in rerun.stdout

        reset = demo.reset()
        assert reset.returncode == 0, reset.stderr
        assert not demo.database_exists()
        assert not demo.state.exists()

        fresh = demo.once()
        assert fresh.returncode == 0, fresh.stderr
        login = LOGIN.search(fresh.stdout)
        assert login is not None, fresh.stdout
        assert login[2].strip() == DEMO_PASSWORD


def test_the_reset_is_a_make_target_and_documented_next_to_make_demo() -> None:
    planned = subprocess.run(
        ["make", "-n", "demo-reset"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "scripts/demo.sh reset" in planned.stdout
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make demo-reset" in quick_start
    # The first two commands of the quick start stay as they were.
    assert "make demo   # runs the demo\nmake test   # installs" in quick_start
