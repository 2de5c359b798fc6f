"""``portico-agent check`` as office IT runs it: one line per item, and an exit status a script
can trust (0 only when nothing failed; warnings allowed; 2 when the file cannot be read)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from agent.check.run import run_check
from agent.cli import main
from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import (
    check,
    least_privilege_user,
    write_config,
)
from tests.support.smtp import RecordingHandler, smtp_server

ITEMS = [
    "config",
    "files",
    "link key",
    "listen port",
    "metrics",
    "database",
    "schema",
    "grants",
    "mail",
    "time zone",
    "clock",
]


def relay_email(port: int) -> dict[str, object]:
    return {
        "mode": "smtp",
        "from_address": "portal@example.org",
        "smtp": {"host": "127.0.0.1", "port": port, "starttls": False},
    }


def test_a_ready_server_passes_every_item_and_exits_zero(
    practice_db: DatabaseSettings,
    link_keys: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with (
        least_privilege_user(practice_db, link_keys, tmp_path) as portico,
        smtp_server(RecordingHandler()) as relay,
    ):
        path = write_config(tmp_path, portico, link_keys, email=relay_email(relay.port))

        status = main(["check", "--config", str(path), "--as-user", "root"])

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert status == 0, out
    assert [re.split(r"\s{2,}", line)[1] for line in lines[:-1]] == ITEMS
    assert all(line.startswith("OK    ") for line in lines[:-1])
    assert lines[-1] == f"{len(ITEMS)} OK"
    pin = (link_keys / "agent.pin").read_text()
    assert f"this agent's pin: {pin}" in out


def test_warnings_alone_still_exit_zero(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with least_privilege_user(practice_db, link_keys, tmp_path) as portico:
        # Seed 002: a cutoff at or beyond the fee window is allowed, but is a warning.
        path = write_config(tmp_path, portico, link_keys, booking={"late_cancel_fee_hours": 12})

        run = check(path)

    config = run.line("config")
    assert run.status == 0, run.output
    assert config.startswith(f"WARN  config       {path} is valid, with 1 warning")
    assert "booking.cancel_cutoff_hours (line" in config
    assert run.status_of("mail") == "WARN"  # folder mode: patients get no email
    assert run.output.splitlines()[-1] == f"{len(ITEMS) - 2} OK, 2 WARN"


def test_any_failure_exits_one(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    run = check(write_config(tmp_path, practice_db, link_keys))  # as root: grants fail

    assert run.status == 1
    assert run.status_of("grants") == "FAIL"
    assert run.output.splitlines()[-1].endswith("1 FAIL")


def test_an_invalid_config_lists_every_problem_and_checks_nothing_else(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path,
        practice_db,
        link_keys,
        practice={"timezone": "America/New_Yrok"},
        listen={"port": 70000},
    )

    run = check(path)

    config = run.line("config")
    assert run.status == 1
    assert config.startswith(f"FAIL  config       {path}: 2 problems")
    assert "practice.timezone (line" in config and "did you mean America/New_York?" in config
    assert "listen.port (line" in config
    assert "cannot check the rest without a valid config" in run.output
    assert [line for line in run.output.splitlines() if not line.startswith(" ")] == [
        config.splitlines()[0],
        "cannot check the rest without a valid config",
    ]


def test_an_unreadable_config_exits_two(tmp_path: Path) -> None:
    out = io.StringIO()

    status = run_check(tmp_path / "missing.yaml", out=out)

    assert status == 2
    assert out.getvalue().startswith(f"FAIL  config       cannot read {tmp_path / 'missing.yaml'}")


def test_a_missing_key_fails_with_init_keys(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "tls"
    path = write_config(
        tmp_path,
        practice_db,
        link_keys,
        tls={"key_file": str(keys / "key.pem"), "cert_file": str(keys / "cert.pem")},
    )

    run = check(path)

    key = run.line("link key")
    assert key.startswith("FAIL  link key     cannot read")
    assert f"`portico-agent init-keys {keys}` creates key.pem and cert.pem" in key
    assert run.line("config").startswith("WARN  config")  # the config says so too


def test_a_key_every_user_can_read_is_a_warning(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes((link_keys / "agent" / "key.pem").read_bytes())
    os.chmod(key, 0o644)
    path = write_config(tmp_path, practice_db, link_keys, tls={"key_file": str(key)})

    run = check(path)

    line = run.line("link key")
    assert line.startswith(f"WARN  link key     {key} may be read by every user")
    assert f"chmod 640 {key}" in line
