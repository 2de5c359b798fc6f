"""Passwords are 12 to 128 characters, counted in the NFKC form that is hashed."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.access.passwords import MAX_LENGTH, MIN_LENGTH, PasswordRefused, check_password_policy

# Not on the common list at any length: mixed characters, no words.
PATTERN = "Vq8!mZr2#pLw-" * 11


def password_of(length: int) -> str:
    return PATTERN[:length]


def test_the_limits_are_twelve_and_a_hundred_and_twenty_eight() -> None:
    assert (MIN_LENGTH, MAX_LENGTH) == (12, 128)


def test_eleven_characters_are_refused() -> None:
    with pytest.raises(PasswordRefused) as refused:
        check_password_policy(password_of(11))
    assert refused.value.code == "too_short"
    assert refused.value.message == "Use at least 12 characters"


def test_twelve_characters_are_accepted() -> None:
    check_password_policy(password_of(12))


def test_a_hundred_and_twenty_eight_characters_are_accepted() -> None:
    check_password_policy(password_of(128))


def test_a_hundred_and_twenty_nine_characters_are_refused() -> None:
    with pytest.raises(PasswordRefused) as refused:
        check_password_policy(password_of(129))
    assert refused.value.code == "too_long"
    assert refused.value.message == "Use at most 128 characters"


def test_spaces_and_non_latin_characters_count_like_any_other() -> None:
    check_password_policy("\u043f\u0430\u0440\u043e\u043b\u044c " * 2)  # 14 characters
    check_password_policy("\U0001f600" * 12)


def test_combining_accents_are_counted_after_composition() -> None:
    # Six "e" + COMBINING ACUTE pairs are 12 code points as typed, but 6 once composed.
    with pytest.raises(PasswordRefused) as refused:
        check_password_policy("e\u0301" * 6)
    assert refused.value.code == "too_short"


def test_compatibility_characters_are_counted_after_expansion() -> None:
    # U+FDFA is one code point that NFKC spells out in 18.
    with pytest.raises(PasswordRefused) as refused:
        check_password_policy("\ufdfa" * 8)
    assert refused.value.code == "too_long"
    check_password_policy("\ufb03" * 4)  # the "ffi" ligature: 4 typed, 12 counted


def test_no_code_point_decomposes_into_more_than_four() -> None:
    # passwords.py refuses raw input longer than 4 * MAX_LENGTH without normalising it; that is
    # only the same rule if NFKC never shrinks a string more than 4-fold.
    longest = max(
        len(unicodedata.normalize("NFD", chr(code))) for code in range(sys.maxunicode + 1)
    )
    assert longest <= 4


@given(st.text(max_size=600))
def test_the_early_refusal_agrees_with_the_normalised_length(text: str) -> None:
    assert len(unicodedata.normalize("NFKC", text)) * 4 >= len(text)
    try:
        check_password_policy(text)
    except PasswordRefused as refused:
        length = len(unicodedata.normalize("NFKC", text))
        if refused.code == "too_long":
            assert length > MAX_LENGTH
        elif refused.code == "too_short":
            assert length < MIN_LENGTH
    else:
        assert MIN_LENGTH <= len(unicodedata.normalize("NFKC", text)) <= MAX_LENGTH
