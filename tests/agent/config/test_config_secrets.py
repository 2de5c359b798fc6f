"""A password in the config never shows up in any error, warning or summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import main
from agent.config import ConfigInvalid, load_config, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT

CANARY = "hunter2-canary"


def edited(old: str, new: str, text: str = EXAMPLE_TEXT) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def everything_said(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """CLI output, the exception's text and its problems, all together."""
    main(["config", "validate", str(path)])
    captured = capsys.readouterr()
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path)
    return "\n".join([captured.out, captured.err, str(caught.value), repr(caught.value.problems)])


def test_password_is_not_echoed_when_the_file_has_another_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edited("  password_file: /etc/portico/db-password", f'  password: "{CANARY}"')
    text = edited("  round_to_minutes: 15", "  round_to_minutes: 20", text)
    path = tmp_path / "agent.yaml"
    path.write_text(text)

    said = everything_said(path, capsys)

    assert "booking.round_to_minutes" in said
    assert CANARY not in said


def test_password_of_the_wrong_type_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        edited("  password_file: /etc/portico/db-password", "  password: [20240229, 7319]")
    )

    said = everything_said(path, capsys)

    assert "database.password" in said
    assert "20240229" not in said
    assert "7319" not in said


def test_password_on_a_line_yaml_cannot_parse_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        edited("  password_file: /etc/portico/db-password", f'  password: "{CANARY}\n  port: 1')
    )

    said = everything_said(path, capsys)

    assert "not valid YAML" in said
    assert CANARY not in said


def test_password_and_password_file_together_are_refused_without_echo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        edited(
            "  password_file: /etc/portico/db-password",
            f"  password_file: /etc/portico/db-password\n  password: {CANARY}",
        )
    )

    said = everything_said(path, capsys)

    assert "set either password or password_file, not both" in said
    assert CANARY not in said


def test_a_loaded_config_does_not_show_its_password() -> None:
    config = parse_config(
        edited("  password_file: /etc/portico/db-password", f"  password: {CANARY}")
    )

    assert config.database.password_value() == CANARY
    assert CANARY not in repr(config)
    assert CANARY not in str(config.model_dump())
