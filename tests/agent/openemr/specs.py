"""`pc_recurrspec` strings for tests, serialized by hand the way PHP's `serialize()` writes an
array of strings (README 6.2, through tests/support/openemr/recurrspec.py's hand-written
serializer), so the tests do not lean on the library under test."""

from __future__ import annotations

from tests.support.openemr.recurrspec import php_serialize


def php_array(**values: str | None) -> str:
    """`php_serialize` with the keys as keyword arguments (for short literal specs)."""
    return php_serialize(values)


def every(freq: str, freq_type: str, exdate: str = "") -> str:
    """The staff dialog's 6-key form (add_edit_event.php:428-435) for types 1 and 3."""
    return php_serialize(
        {
            "event_repeat_freq": freq,
            "event_repeat_freq_type": freq_type,
            "event_repeat_on_num": "1",
            "event_repeat_on_day": "0",
            "event_repeat_on_freq": "0",
            "exdate": exdate,
        }
    )


def nth_weekday(num: str, day: str, months: str, *, flag: bool, exdate: str = "") -> str:
    """A type-2 spec; `flag` adds `rt2_pf_flag` as current code saves it."""
    values: dict[str, str | None] = {
        "event_repeat_freq": "0",
        "event_repeat_freq_type": "0",
        "event_repeat_on_num": num,
        "event_repeat_on_day": day,
        "event_repeat_on_freq": months,
        "exdate": exdate,
    }
    if flag:
        values["rt2_pf_flag"] = "1"
    return php_serialize(values)


NO_REPEAT = every("0", "0")  # the staff dialog's "no repeat" spec (add_edit_event.php:449-456)
