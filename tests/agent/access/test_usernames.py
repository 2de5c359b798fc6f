"""Usernames (for families sharing one email, seed 004): normalised like emails, 3 to 32 of
a-z 0-9 . _ -, starting with a letter or digit, never containing @."""

from __future__ import annotations

import pytest

from agent.access.identifiers import IdentifierRefused, normalise_username


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("kate", "kate"),
        ("Kate.Smith", "kate.smith"),
        ("  k_s-1  ", "k_s-1"),
        ("123", "123"),
        ("\u212aate", "kate"),  # Kelvin sign
        ("\uff2b\uff21\uff34\uff25", "kate"),  # fullwidth
        ("k" * 32, "k" * 32),
        ("kate.", "kate."),
    ],
)
def test_accepted_usernames(raw: str, expected: str) -> None:
    assert normalise_username(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "username_empty"),
        ("   ", "username_empty"),
        ("kate@example.org", "username_at_sign"),
        ("kate@", "username_at_sign"),
        ("ka", "username_length"),
        ("k" * 33, "username_length"),
        ("kate smith", "username_characters"),
        ("kate+1", "username_characters"),
        ("k\u00e5te", "username_characters"),
        ("k\u0131ra", "username_characters"),  # dotless i
        ("kir\u0430", "username_characters"),  # Cyrillic a
        ("ka\u200fte", "username_characters"),  # RIGHT-TO-LEFT MARK
        ("ka\u200dte", "username_characters"),  # ZERO WIDTH JOINER
        (".kate", "username_start"),
        ("_kate", "username_start"),
        ("-kate", "username_start"),
    ],
)
def test_refused_usernames(raw: str, code: str) -> None:
    with pytest.raises(IdentifierRefused) as refused:
        normalise_username(raw)
    assert refused.value.code == code
    assert refused.value.message


def test_the_refusal_explains_the_rule() -> None:
    with pytest.raises(IdentifierRefused) as refused:
        normalise_username("ka")
    assert refused.value.message == "A username needs 3 to 32 characters"
    with pytest.raises(IdentifierRefused) as refused:
        normalise_username("kate@example.org")
    assert "@" in refused.value.message
    assert "kate" not in refused.value.message
