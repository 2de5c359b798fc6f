"""README 6.7: the output of OpenEMR's own `fetchEvents` on eighteen rows, copied as literal
dates. Each case names the quirk it pins (workday weekend rule, month overflow, the first
occurrence is `pc_eventDate` whatever its weekday, NULL end date, dashed exdate tokens)."""

from __future__ import annotations

from datetime import date

import pytest

from agent.openemr.recurrence import occurrences, parse_weekend_days, recurrence_rule
from tests.agent.openemr.specs import every, nth_weekday


def d(text: str) -> date:
    return date.fromisoformat(text)


CASES = [
    # (id, pc_eventDate, pc_endDate, pc_recurrtype, spec, window, weekend, expected)
    ("1 workday with exdate", "2026-10-01", "2026-12-31", 1, every("1", "4", "20261104"),
     ("2026-10-26", "2026-11-07"), "6,0",
     ["2026-10-26", "2026-10-27", "2026-10-28", "2026-10-29", "2026-10-30",
      "2026-11-02", "2026-11-03", "2026-11-05", "2026-11-06"]),
    ("2 every 2 days", "2026-10-27", "2026-12-31", 1, every("2", "0"),
     ("2026-10-26", "2026-11-07"), "6,0",
     ["2026-10-27", "2026-10-29", "2026-10-31", "2026-11-02", "2026-11-04", "2026-11-06"]),
    ("3 weekly", "2026-10-06", "2027-01-26", 1, every("1", "1"),
     ("2026-10-26", "2026-11-07"), "6,0",
     ["2026-10-27", "2026-11-03"]),
    ("4 every 2 weeks", "2026-09-02", "2026-12-31", 1, every("2", "1"),
     ("2026-09-01", "2026-10-31"), "6,0",
     ["2026-09-02", "2026-09-16", "2026-09-30", "2026-10-14", "2026-10-28"]),
    ("5 monthly from the 31st rolls over", "2027-01-31", "2027-12-31", 1, every("1", "2"),
     ("2027-01-01", "2027-06-30"), "6,0",
     ["2027-01-31", "2027-03-03", "2027-04-03", "2027-05-03", "2027-06-03"]),
    ("6 yearly from Feb 29", "2028-02-29", "2031-12-31", 1, every("1", "3"),
     ("2028-01-01", "2031-12-31"), "6,0",
     ["2028-02-29", "2029-03-01", "2030-03-01", "2031-03-01"]),
    ("7 Tue and Thu", "2026-10-01", "2026-12-31", 3, every("3,5", "6"),
     ("2026-10-26", "2026-11-07"), "6,0",
     ["2026-10-27", "2026-10-29", "2026-11-03", "2026-11-05"]),
    ("8 Mon and Fri from a Tuesday", "2026-09-01", "2026-12-31", 3, every("2,6", "6"),
     ("2026-09-01", "2026-09-12"), "6,0",
     ["2026-09-01", "2026-09-04", "2026-09-07", "2026-09-11"]),
    ("9 3rd Wednesday", "2026-09-16", "2027-06-30", 2, nth_weekday("3", "3", "1", flag=True),
     ("2026-10-01", "2026-12-31"), "6,0",
     ["2026-10-21", "2026-11-18", "2026-12-16"]),
    ("10 last Monday", "2027-01-25", "2027-12-31", 2, nth_weekday("5", "1", "1", flag=True),
     ("2027-01-01", "2027-06-30"), "6,0",
     ["2027-01-25", "2027-02-22", "2027-03-29", "2027-04-26", "2027-05-31", "2027-06-28"]),
    ("11 last Friday from the 29th, no flag", "2027-01-29", "2027-12-31", 2,
     nth_weekday("5", "5", "1", flag=False),
     ("2027-01-01", "2027-06-30"), "6,0",
     ["2027-01-29", "2027-03-26", "2027-04-30", "2027-05-28", "2027-06-25"]),
    ("12 last Friday from the 29th, flag", "2027-01-29", "2027-12-31", 2,
     nth_weekday("5", "5", "1", flag=True),
     ("2027-01-01", "2027-06-30"), "6,0",
     ["2027-01-29", "2027-02-26", "2027-03-26", "2027-04-30", "2027-05-28", "2027-06-25"]),
    ("13 no end date", "2026-10-26", None, 1, every("1", "4"),
     ("2026-10-26", "2026-11-07"), "6,0",
     []),
    ("14 workday series starting on a Saturday", "2026-10-31", "2026-12-31", 1, every("1", "4"),
     ("2026-10-31", "2026-11-07"), "6,0",
     ["2026-10-31", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]),
    ("15 every 2 workdays", "2026-10-26", "2026-12-31", 1, every("2", "4"),
     ("2026-10-26", "2026-11-07"), "6,0",
     ["2026-10-26", "2026-10-28", "2026-10-30", "2026-11-03", "2026-11-05"]),
    ("16 dashed exdate token ignored", "2026-10-26", "2026-12-31", 1,
     every("1", "0", "2026-10-27,20261028"),
     ("2026-10-26", "2026-10-30"), "6,0",
     ["2026-10-26", "2026-10-27", "2026-10-29", "2026-10-30"]),
    ("17 workday with a Fri-Sat weekend", "2026-10-25", "2026-12-31", 1, every("1", "4"),
     ("2026-10-26", "2026-11-07"), "5,6",
     ["2026-10-26", "2026-10-27", "2026-10-28", "2026-10-29",
      "2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]),
    ("18 end date inclusive", "2026-10-19", "2026-10-28", 1, every("1", "0"),
     ("2026-10-26", "2026-11-07"), "6,0",
     ["2026-10-26", "2026-10-27", "2026-10-28"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("event_date", "end_date", "recurrence_type", "spec", "window", "weekend", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_occurrences_match_openemr(
    event_date: str,
    end_date: str | None,
    recurrence_type: int,
    spec: str,
    window: tuple[str, str],
    weekend: str,
    expected: list[str],
) -> None:
    rule = recurrence_rule(recurrence_type, spec)
    got = occurrences(
        rule,
        d(event_date),
        None if end_date is None else d(end_date),
        d(window[0]),
        d(window[1]),
        parse_weekend_days(weekend),
    )
    assert got == [d(day) for day in expected]


def test_a_single_row_is_its_own_date_whatever_its_spec_says() -> None:
    """README 6.1: trust pc_recurrtype; the portal stores on_freq "1" in single rows."""
    portal_spec = (
        'a:5:{s:17:"event_repeat_freq";N;s:22:"event_repeat_freq_type";s:1:"0";'
        's:19:"event_repeat_on_num";s:1:"1";s:19:"event_repeat_on_day";s:1:"0";'
        's:20:"event_repeat_on_freq";s:1:"1";}'
    )
    rule = recurrence_rule(0, portal_spec)
    assert rule is None
    assert occurrences(rule, d("2026-10-28"), None, d("2026-10-26"), d("2026-11-07")) == [
        d("2026-10-28")
    ]
    assert occurrences(rule, d("2026-10-25"), None, d("2026-10-26"), d("2026-11-07")) == []


def test_the_default_in_office_category_spec_is_every_workday() -> None:
    """README 6.2, example 1 (the 5-key spec without exdate)."""
    spec = (
        'a:5:{s:17:"event_repeat_freq";s:1:"1";s:22:"event_repeat_freq_type";s:1:"4";'
        's:19:"event_repeat_on_num";s:1:"1";s:19:"event_repeat_on_day";s:1:"0";'
        's:20:"event_repeat_on_freq";s:1:"0";}'
    )
    rule = recurrence_rule(1, spec)
    got = occurrences(rule, d("2026-10-30"), d("2026-12-31"), d("2026-10-30"), d("2026-11-03"))
    assert got == [d("2026-10-30"), d("2026-11-02"), d("2026-11-03")]


def test_a_zero_date_end_is_no_occurrence_either() -> None:
    """README 6.5: `0000-00-00` reaches the expander as None (the calendar maps it)."""
    rule = recurrence_rule(1, every("1", "0"))
    assert occurrences(rule, d("2026-10-26"), None, d("2026-10-26"), d("2026-10-30")) == []


def test_the_weekend_global_defaults_when_missing_and_keeps_its_order() -> None:
    assert parse_weekend_days(None) == (6, 0)
    assert parse_weekend_days("5,6") == (5, 6)
    assert parse_weekend_days("0") == (0,)
    assert parse_weekend_days("") == ()
