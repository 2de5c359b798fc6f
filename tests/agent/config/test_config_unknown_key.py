"""A misspelt or unknown key is an error that suggests the key the admin probably meant."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, ConfigProblem, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT


def edited(old: str, new: str) -> str:
    assert EXAMPLE_TEXT.count(old) == 1, old
    return EXAMPLE_TEXT.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)
    return caught.value.problems


def test_a_misspelt_key_suggests_the_right_one() -> None:
    text = edited("  horizon_days: 60", "  horizon_day: 60")

    assert problems_of(text) == [
        ConfigProblem(
            "booking.horizon_day",
            line_of(text, "horizon_day:"),
            "unknown key; did you mean horizon_days?",
        )
    ]


def test_a_misspelt_section_suggests_the_right_one() -> None:
    text = edited("\nbooking:\n", "\nbookings:\n")

    assert ConfigProblem(
        "bookings", line_of(text, "bookings:"), "unknown key; did you mean booking?"
    ) in problems_of(text)


def test_a_key_like_nothing_known_gets_no_suggestion() -> None:
    text = edited("  round_to_minutes: 15", "  round_to_minutes: 15\n  colour_scheme: blue")

    assert [p.message for p in problems_of(text)] == ["unknown key"]


def test_a_key_that_belongs_in_another_section_is_unknown_where_it_is() -> None:
    text = edited("  lockout_minutes: 15", "  lockout_minutes: 15\n  horizon_days: 30")

    assert [(p.path, p.message) for p in problems_of(text)] == [
        ("access.horizon_days", "unknown key")
    ]
