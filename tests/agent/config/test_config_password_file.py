"""The database password comes from password_file, from password, or is empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.config import Database


def test_the_password_is_read_from_the_file_without_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "db-password"
    secret.write_text("correct horse \n")

    assert Database(password_file=secret).password_value() == "correct horse "


def test_a_windows_line_ending_is_dropped_too(tmp_path: Path) -> None:
    secret = tmp_path / "db-password"
    secret.write_bytes(b"s3cret\r\n")

    assert Database(password_file=secret).password_value() == "s3cret"


def test_the_file_is_read_when_asked_so_a_changed_password_is_picked_up(tmp_path: Path) -> None:
    secret = tmp_path / "db-password"
    secret.write_text("first\n")
    database = Database(password_file=secret)
    secret.write_text("second\n")

    assert database.password_value() == "second"


def test_an_inline_password_is_used_when_there_is_no_file() -> None:
    assert Database.model_validate({"password": "inline"}).password_value() == "inline"


def test_no_password_at_all_is_empty() -> None:
    assert Database().password_value() == ""


def test_an_unreadable_password_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Database(password_file=tmp_path / "missing").password_value()


def test_password_and_password_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        Database.model_validate({"password": "x", "password_file": str(tmp_path / "p")})

    assert caught.value.errors()[0]["type"] == "conflict"
