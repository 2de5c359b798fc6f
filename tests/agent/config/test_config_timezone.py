"""practice.timezone must be an IANA zone name the system knows."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT


def with_timezone(value: str) -> str:
    return EXAMPLE_TEXT.replace("timezone: America/New_York", f"timezone: {value}")


@pytest.mark.parametrize("name", ["America/Chicago", "Europe/London", "UTC", "Asia/Kolkata"])
def test_known_zones_are_accepted(name: str) -> None:
    assert parse_config(with_timezone(name)).practice.timezone == name


def test_a_near_miss_suggests_the_real_name() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(with_timezone("America/NewYork"))

    [problem] = caught.value.problems
    assert problem.path == "practice.timezone"
    assert problem.message == (
        'unknown time zone "America/NewYork": use an IANA name; did you mean America/New_York?'
    )


@pytest.mark.parametrize("name", ["Eastern Standard Time", "Mars/Olympus_Mons", "'../etc'", "''"])
def test_names_that_are_not_zones_are_refused_with_an_example(name: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(with_timezone(name))

    [problem] = caught.value.problems
    assert problem.path == "practice.timezone"
    assert "use an IANA name" in problem.message
