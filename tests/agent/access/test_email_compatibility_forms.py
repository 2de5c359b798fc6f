"""Compatibility forms (Kelvin sign, fullwidth letters) normalise to the plain address they show,
so they collide with it under uniqueness instead of making a second account (DESIGN.md)."""

from __future__ import annotations

import pytest

from agent.access.identifiers import normalise_email


def fullwidth(ascii_text: str) -> str:
    """The FULLWIDTH forms (U+FF01..U+FF5E) of printable ASCII."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in ascii_text)


def test_kelvin_sign_becomes_k_and_collides_with_the_plain_address() -> None:
    kelvin = "\u212aate@example.org"
    assert normalise_email(kelvin) == "kate@example.org"
    assert normalise_email(kelvin) == normalise_email("kate@example.org")


def test_fullwidth_letters_become_plain_letters() -> None:
    assert normalise_email("\uff21\uff2e\uff2e@example.org") == "ann@example.org"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (fullwidth("Ann@Example.org"), "ann@example.org"),
        ("ANN@EXAMPLE.ORG", "ann@example.org"),
        # German sharp s casefolds to "ss" (lower() would keep it and then refuse the address).
        ("stra\u00dfe@example.org", "strasse@example.org"),
    ],
)
def test_other_compatibility_and_case_forms(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected
