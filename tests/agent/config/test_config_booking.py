"""booking: the seed's settings, their limits, and a window in which some slot can exist."""

from __future__ import annotations

import pytest

from agent.config import Booking, ConfigInvalid, ConfigProblem, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT


def with_booking(**settings: object) -> str:
    """The example file with these keys of its `booking:` section set (other sections, such as
    metrics, have keys of the same name)."""
    head, _, booking = EXAMPLE_TEXT.partition("\nbooking:\n")
    section, _, tail = booking.partition("\n# ---")
    for key, value in settings.items():
        [line] = [line for line in section.splitlines() if line.startswith(f"  {key}:")]
        section = section.replace(line, f"  {key}: {value}")
    return f"{head}\nbooking:\n{section}\n# ---{tail}"


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)
    return caught.value.problems


def test_defaults_are_the_documented_ones() -> None:
    rules = Booking()

    assert rules.enabled is True
    assert (rules.horizon_days, rules.min_notice_hours, rules.cancel_cutoff_hours) == (60, 24, 24)
    assert rules.allow_cancel_reschedule is True
    assert rules.round_to_minutes == 15
    assert rules.allow_no_preference is True
    assert rules.late_cancel_fee_hours is None
    assert rules.max_upcoming_per_patient is None


@pytest.mark.parametrize("minutes", [15, 30, 60])
def test_each_rounding_grid_is_accepted(minutes: int) -> None:
    assert parse_config(with_booking(round_to_minutes=minutes)).booking.round_to_minutes == minutes


def test_same_day_booking_is_allowed() -> None:
    assert parse_config(with_booking(min_notice_hours=0)).booking.min_notice_hours == 0


def test_notice_reaching_past_the_horizon_is_an_error_on_min_notice_hours() -> None:
    text = with_booking(horizon_days=2, min_notice_hours=48)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "min_notice_hours:" in t)

    [problem] = problems_of(text)

    assert (problem.path, problem.line) == ("booking.min_notice_hours", line)
    assert "no slot could ever be offered" in problem.message


def test_notice_just_inside_the_horizon_is_fine() -> None:
    assert parse_config(with_booking(horizon_days=2, min_notice_hours=47)).booking.horizon_days == 2


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("horizon_days", 0, "must be at least 1 (got 0)"),
        ("horizon_days", 731, "must be at most 730 (got 731)"),
        ("min_notice_hours", -1, "must be at least 0 (got -1)"),
        ("cancel_cutoff_hours", 8761, "must be at most 8760 (got 8761)"),
        ("late_cancel_fee_hours", 0, "must be at least 1 (got 0)"),
        ("max_upcoming_per_patient", 101, "must be at most 100 (got 101)"),
        ("round_to_minutes", 45, "must be 15, 30 or 60 (got 45)"),
        ("enabled", "sometimes", 'must be true or false (got "sometimes")'),
        # YAML's true is not a number: "true" here must not quietly mean a cap of one.
        ("max_upcoming_per_patient", "true", "must be a whole number (got true)"),
        ("horizon_days", "", "is empty; give it a value"),
    ],
)
def test_out_of_range_values_say_the_limit(key: str, value: object, message: str) -> None:
    assert [(p.path, p.message) for p in problems_of(with_booking(**{key: value}))] == [
        (f"booking.{key}", message)
    ]
