"""The shipped common-password list: a real, attributed list of at least 10,000 entries."""

from __future__ import annotations

import importlib.resources

from agent.access.passwords import common_passwords


def lines() -> list[str]:
    resource = importlib.resources.files("agent.access").joinpath("common_passwords.txt")
    return resource.read_text(encoding="utf-8").splitlines()


def test_it_holds_at_least_ten_thousand_distinct_passwords() -> None:
    assert len(common_passwords()) >= 10_000


def test_the_header_states_provenance_and_licence() -> None:
    header = [line for line in lines() if line.startswith("#")]
    assert lines()[0].startswith("#")
    text = "\n".join(header)
    assert "zxcvbn" in text
    assert "MIT" in text
    assert "Permission is hereby granted" in text


def test_comment_lines_are_not_loaded_and_every_other_line_is() -> None:
    entries = [line for line in lines() if not line.startswith("#")]
    assert len(entries) == len(set(entries)) == len(common_passwords())
    assert not any(entry.startswith("#") for entry in common_passwords())
    assert set(entries) == common_passwords()


def test_entries_are_casefolded_and_most_frequent_first() -> None:
    entries = [line for line in lines() if not line.startswith("#")]
    assert entries[:2] == ["123456", "password"]
    assert all(entry == entry.casefold() and entry.strip() == entry for entry in entries)


def test_it_is_loaded_once() -> None:
    assert common_passwords() is common_passwords()
