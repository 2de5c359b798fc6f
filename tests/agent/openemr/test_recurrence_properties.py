"""Properties of every expansion, over generated rows: occurrences lie in the window and in
the row's own range, ascend without repeats, skip every `YYYYMMDD` exdate, and the first one
is `pc_eventDate` whenever the window starts on or before it."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from agent.openemr.recurrence import occurrences, recurrence_rule
from tests.agent.openemr.specs import every, nth_weekday

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
WEEKENDS = st.sampled_from([(6, 0), (0,), (5,), (6,), (5, 6), ()])


@st.composite
def rows(draw: st.DrawFn) -> tuple[int, str, date, date, list[date]]:
    event_date = draw(DAYS)
    end_date = event_date + timedelta(days=draw(st.integers(0, 800)))
    excluded = draw(st.lists(st.integers(0, 120), max_size=6))
    exdates = [event_date + timedelta(days=n) for n in excluded]
    exdate = ",".join(day.strftime("%Y%m%d") for day in exdates)
    kind = draw(st.sampled_from(["interval", "days", "nth"]))
    if kind == "interval":
        unit = draw(st.sampled_from(["0", "1", "2", "3", "4"]))
        spec, recurrence_type = every(str(draw(st.integers(1, 6))), unit, exdate), 1
    elif kind == "days":
        weekdays = draw(st.sets(st.integers(1, 7), min_size=1))
        spec, recurrence_type = every(",".join(map(str, sorted(weekdays))), "6", exdate), 3
    else:
        num, day = str(draw(st.integers(1, 5))), str(draw(st.integers(0, 6)))
        months = draw(st.sampled_from(["1", "2", "3", "4", "6", "12"]))
        spec = nth_weekday(num, day, months, flag=draw(st.booleans()), exdate=exdate)
        recurrence_type = 2
    return recurrence_type, spec, event_date, end_date, exdates


@given(rows(), DAYS, st.integers(0, 60), WEEKENDS)
def test_occurrences_stay_in_the_window_and_skip_exdates(
    row: tuple[int, str, date, date, list[date]],
    first: date,
    length: int,
    weekend: tuple[int, ...],
) -> None:
    recurrence_type, spec, event_date, end_date, exdates = row
    last = first + timedelta(days=length)
    got = occurrences(
        recurrence_rule(recurrence_type, spec), event_date, end_date, first, last, weekend
    )
    assert all(first <= day <= last for day in got)
    assert all(day <= end_date for day in got)
    assert not set(got) & set(exdates)
    assert got == sorted(set(got))
    if recurrence_type != 2:
        assert all(day >= event_date for day in got)
        if first <= event_date <= min(last, end_date) and event_date not in exdates:
            assert got[0] == event_date
