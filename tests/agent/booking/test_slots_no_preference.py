""" "No preference": the free provider with the fewest appointments that day, then lowest id."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.booking.slots import choose_provider


def test_fewest_appointments_that_day_wins() -> None:
    assert choose_provider([(1, 5), (2, 3), (3, 4)]) == 2


def test_fewest_appointments_wins_over_a_lower_id() -> None:
    assert choose_provider([(1, 1), (7, 0)]) == 7


def test_tie_goes_to_the_lowest_id_whatever_the_order() -> None:
    assert choose_provider([(9, 2), (4, 2), (6, 2), (5, 3)]) == 4
    assert choose_provider([(4, 2), (9, 2)]) == 4


def test_single_candidate_is_chosen() -> None:
    assert choose_provider([(42, 17)]) == 42


def test_no_candidate_raises() -> None:
    with pytest.raises(ValueError, match="no candidate provider"):
        choose_provider([])


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.integers(1, 10_000), st.integers(0, 20), min_size=1, max_size=8).map(
        lambda d: list(d.items())
    )
)
def test_choice_is_the_least_busy_then_lowest_id(candidates: list[tuple[int, int]]) -> None:
    chosen = choose_provider(candidates)
    load = dict(candidates)
    fewest = min(load.values())
    assert load[chosen] == fewest
    assert chosen == min(pid for pid, n in candidates if n == fewest)
