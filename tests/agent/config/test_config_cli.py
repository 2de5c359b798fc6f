"""`portico-agent config validate FILE`: what it prints and how it exits."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import main
from tests.agent.config.example_config import EXAMPLE_TEXT


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return str(path)


def test_a_valid_file_exits_0_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "key.pem").write_text("key")
    (tmp_path / "cert.pem").write_text("cert")
    path = write(tmp_path, EXAMPLE_TEXT.replace("/etc/portico/tls/", f"{tmp_path}/"))

    assert main(["config", "validate", path]) == 0

    # The example's database password file is not there: the accounts cannot be counted.
    note, ok = capsys.readouterr().out.splitlines()
    assert note.startswith("note: could not count the accounts that access.identity concerns")
    assert ok == "config OK"


def test_warnings_alone_still_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE_TEXT.replace("/etc/portico/tls/", f"{tmp_path}/missing/")
    text = text.replace("late_cancel_fee_hours: null", "late_cancel_fee_hours: 24")
    path = write(tmp_path, text)

    assert main(["config", "validate", path]) == 0

    out = capsys.readouterr().out.splitlines()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "cancel_cutoff_hours:" in t)
    assert f"warning: booking.cancel_cutoff_hours (line {line}): these cancel each other out" in (
        "\n".join(out)
    )
    assert sum(o.startswith("warning: tls.") for o in out) == 2
    assert out[-1] == "config OK"


def test_an_invalid_file_exits_1_listing_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE_TEXT.replace("round_to_minutes: 15", "round_to_minutes: 20").replace(
        "lockout_failures: 5", "lockout_failures: 1"
    )
    path = write(tmp_path, text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "round_to_minutes:" in t)

    assert main(["config", "validate", path]) == 1

    out = capsys.readouterr().out.splitlines()
    assert f"error: booking.round_to_minutes (line {line}): must be 15, 30 or 60 (got 20)" in out
    assert any(o.startswith("error: access.lockout_failures (line ") for o in out)
    assert out[-1] == "2 problems"


def test_one_problem_is_counted_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "logging: [info]\n" + EXAMPLE_TEXT.split("\nlogging:")[0])

    assert main(["config", "validate", path]) == 1

    assert capsys.readouterr().out.splitlines()[-1] == "1 problem"


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"

    assert main(["config", "validate", str(missing)]) == 2

    captured = capsys.readouterr()
    assert f"cannot read {missing}" in captured.err
    assert "No such file" in captured.err


def test_a_directory_instead_of_a_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "validate", str(tmp_path)]) == 2

    assert f"cannot read {tmp_path}" in capsys.readouterr().err


def test_config_without_a_subcommand_lists_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0

    assert "validate" in capsys.readouterr().out
