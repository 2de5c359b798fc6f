"""A `pc_recurrspec` is text any OpenEMR user (or a broken import) can put in the table: it is
read under a length bound, objects refused, only a flat array of strings, integers and nulls
accepted. Whatever it holds, reading it raises MalformedRecurrence and nothing else."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.openemr.recurrence import (
    MAX_SPEC_BYTES,
    EveryInterval,
    MalformedRecurrence,
    NthWeekday,
    Unit,
    parse_recurrspec,
    recurrence_rule,
)
from tests.agent.openemr.specs import every, nth_weekday, php_array

WORKDAYS_WITH_EXDATE = every("1", "4", "20261104")

HOSTILE = {
    "php object": 'O:8:"stdClass":1:{s:1:"a";s:1:"b";}',
    "object inside the array": 'a:1:{s:17:"event_repeat_freq";O:8:"stdClass":0:{}}',
    "custom-serialized object": 'C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}',
    "truncated": WORKDAYS_WITH_EXDATE[:60],
    "truncated inside a string": 'a:1:{s:17:"event_repeat',
    "string length past the end": 'a:1:{s:17:"event_repeat_freq";s:999999999:"1";}',
    "count larger than the entries": 'a:99999999:{s:1:"a";s:1:"b";}',
    "not an array": 's:5:"hello";',
    "an integer": "i:5;",
    "empty": "",
    "garbage": "\x00\xff{{{",
    "float value": 'a:1:{s:17:"event_repeat_freq";d:1.5;}',
    "boolean value": 'a:1:{s:17:"event_repeat_freq";b:1;}',
    "nested array value": 'a:1:{s:17:"event_repeat_freq";a:1:{i:0;s:1:"1";}}',
    "array as a key": 'a:1:{a:0:{}s:1:"1";}',
    "deeply nested": "a:1:{i:0;" * 3000 + "N;" + "}" * 3000,
    "huge": php_array(exdate=",".join(["20261104"] * 2000)),
}


@pytest.mark.parametrize("spec", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_spec_is_malformed(spec: str) -> None:
    with pytest.raises(MalformedRecurrence):
        parse_recurrspec(spec)


def test_invalid_utf8_is_malformed() -> None:
    with pytest.raises(MalformedRecurrence):
        parse_recurrspec(b'a:1:{s:1:"a";s:2:"\xff\xfe";}')


def test_the_length_bound_leaves_room_for_a_year_of_deleted_days() -> None:
    year_of_exdates = ",".join(f"2026{m:02}{day:02}" for m in range(1, 13) for day in range(1, 29))
    spec = every("1", "0", year_of_exdates)
    assert len(spec) < MAX_SPEC_BYTES
    rule = recurrence_rule(1, spec)
    assert isinstance(rule, EveryInterval)
    assert len(rule.exdates) == 12 * 28


INVALID_RULES = {
    "type 1 with freq 0": (1, every("0", "0")),
    "type 1 without freq": (1, php_array(event_repeat_freq=None, event_repeat_freq_type="0")),
    "type 1 without freq_type": (1, php_array(event_repeat_freq="1")),
    "type 1, null freq_type": (1, php_array(event_repeat_freq="1", event_repeat_freq_type=None)),
    "unit 5 loops forever in PHP": (1, every("1", "5")),
    "unit 7": (1, every("1", "7")),
    "non-numeric interval": (1, every("abc", "0")),
    "negative interval": (1, every("-1", "0")),
    "days-of-week with weekday 8": (3, every("3,8", "6")),
    "days-of-week with an empty token": (3, every("3,", "6")),
    "type 2 with on_freq 0": (2, nth_weekday("3", "3", "0", flag=True)),
    "type 2 with on_num 0": (2, nth_weekday("0", "3", "1", flag=True)),
    "type 2 without on_day": (2, php_array(event_repeat_on_freq="1", event_repeat_on_num="3")),
    "type 2 with weekday 7": (2, nth_weekday("3", "7", "1", flag=True)),
    "unknown recurrtype": (4, every("1", "0")),
    "an empty array (negative count)": (1, "a:-1:{}"),
    "a repeating row without spec": (1, None),
}  # fmt: skip


@pytest.mark.parametrize(("recurrence_type", "spec"), INVALID_RULES.values(), ids=INVALID_RULES)
def test_a_spec_missing_what_its_type_needs_is_malformed(
    recurrence_type: int, spec: str | None
) -> None:
    with pytest.raises(MalformedRecurrence):
        recurrence_rule(recurrence_type, spec)


def test_integers_count_as_their_strings() -> None:
    spec = 'a:2:{s:17:"event_repeat_freq";i:2;s:22:"event_repeat_freq_type";i:1;}'
    assert recurrence_rule(1, spec) == EveryInterval(Unit.WEEK, 2, frozenset(), frozenset())


def test_the_fifth_weekday_and_beyond_mean_the_last() -> None:
    rule = recurrence_rule(2, nth_weekday("9", "1", "2", flag=False))
    assert rule == NthWeekday(5, 0, 2, False, frozenset())


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise_anything_but_malformed(spec: bytes) -> None:
    with contextlib.suppress(MalformedRecurrence):
        recurrence_rule(1, spec)


@given(st.text(alphabet='aOsiNdbC:;{}"0123456789-', max_size=200))
def test_arbitrary_serializer_looking_text_never_raises_anything_but_malformed(spec: str) -> None:
    for recurrence_type in (1, 2, 3):
        with contextlib.suppress(MalformedRecurrence):
            recurrence_rule(recurrence_type, spec)


def test_a_single_row_never_reads_its_spec() -> None:
    assert recurrence_rule(0, HOSTILE["php object"]) is None
    assert recurrence_rule(0, None) is None
