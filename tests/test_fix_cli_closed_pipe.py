"""Issue 11: "`audit | head`, `check | head`: BrokenPipe tracebacks. Every CLI verb must exit
quietly on a closed pipe."

Both programs run as office IT runs them: the installed console scripts in a subprocess, their
output piped into a reader that has already gone (as `head -1` has once it printed its line),
so the verb's first write meets a closed pipe. Nothing may reach stderr but the verb's own
messages, and the exit status is 141 (128 + SIGPIPE, what the shell reports for `yes | head`),
see docs/decisions.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from agent.db.pool import DatabaseSettings
from tests.support.database import MariaDB, fresh_database
from tests.support.keys import make_keys
from tests.support.practice import agent_config_data

BIN = Path(sys.executable).parent
EXAMPLES = Path(__file__).parents[1] / "config"
CLOSED_PIPE = 141


@pytest.fixture
def agent_yaml(mariadb: MariaDB, tmp_path: Path) -> Iterator[Path]:
    with fresh_database(mariadb) as settings:
        # Something for `audit` to print (the rows' content does not matter here).
        connection = mariadb.connect()
        with connection, connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO `{settings.name}`.portal_audit (occurred_at, actor, action, outcome)"
                " VALUES (UTC_TIMESTAMP(6), 'staff', %s, 'ok')",
                [(f"test.action{n}",) for n in range(5)],
            )
        yield _write_agent_yaml(tmp_path, settings)


def _write_agent_yaml(directory: Path, settings: DatabaseSettings) -> Path:
    data = agent_config_data(settings, make_keys(directory))
    path = directory / "agent.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_into_closed_pipe(program: str, *argv: str) -> tuple[int, str]:
    # Block-buffered output, as in a real pipe (the test run itself may ask for unbuffered).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        [str(BIN / program), *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the verb writes its first line
    stderr = process.stderr.read().decode()
    return process.wait(timeout=120), stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "validate", "{agent_yaml}"],
        ["embed-code", "--config", "{agent_yaml}"],
        ["check", "--config", "{agent_yaml}", "--timeout", "0.5"],
        ["audit", "--config", "{agent_yaml}"],
    ],
    ids=["config-validate", "embed-code", "check", "audit"],
)
def test_agent_verbs_exit_quietly_into_a_closed_pipe(argv: list[str], agent_yaml: Path) -> None:
    status, stderr = run_into_closed_pipe(
        "portico-agent", *(a.format(agent_yaml=agent_yaml) for a in argv)
    )

    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr and "Broken pipe" not in stderr
    assert status == CLOSED_PIPE, stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--config", str(EXAMPLES / "proxy.example.yaml"), "--timeout", "0.5"],
        ["init-keys", "{tmp}"],
    ],
    ids=["check", "init-keys"],
)
def test_proxy_verbs_exit_quietly_into_a_closed_pipe(argv: list[str], tmp_path: Path) -> None:
    status, stderr = run_into_closed_pipe("portico-proxy", *(a.format(tmp=tmp_path) for a in argv))

    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr and "Broken pipe" not in stderr
    assert status == CLOSED_PIPE, stderr


def test_a_real_head_sees_the_first_line_and_no_traceback(agent_yaml: Path) -> None:
    pipeline = subprocess.run(
        [
            "sh",
            "-c",
            f'"{BIN}/portico-agent" check --config "{agent_yaml}" --timeout 0.5 | head -1',
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert pipeline.stdout.startswith("OK    config")
    assert "Traceback" not in pipeline.stderr
