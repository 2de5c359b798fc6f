"""Lookalike and invisible characters are refused, so no address can pass for another account's
(DESIGN.md "Access rules")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.access.identifiers import IdentifierRefused, normalise_email

PLAIN_ONLY = "Please enter an email address with only plain letters, digits and . _ - +"


@pytest.mark.parametrize(
    "raw",
    [
        "k\u0131ra@example.org",  # dotless i
        "ki\u200fra@example.org",  # RIGHT-TO-LEFT MARK inside
        "kira@example.org\u200f",  # ... and at the end, where strip() does not remove it
        "\u200fkira@example.org",
        "ki\u200dra@example.org",  # ZERO WIDTH JOINER
        "ki\u200bra@example.org",  # ZERO WIDTH SPACE
        "ki\u00adra@example.org",  # SOFT HYPHEN
        "ki\u2060ra@example.org",  # WORD JOINER
        "\ufeffkira@example.org",  # BYTE ORDER MARK
        "ki\u202era@example.org",  # RIGHT-TO-LEFT OVERRIDE
        "kir\u0430@example.org",  # Cyrillic a
        "kira@ex\u0430mple.org",  # Cyrillic a in the domain
        "kira@example.\u03bfrg",  # Greek omicron
        "k\u0456ra@example.org",  # Cyrillic i
        "kira@b\u00fccher.example",  # an IDN domain not in xn-- form
        "\u0130nci@example.org",  # dotted capital I casefolds to i + combining dot
        "jos\u00e9@example.org",
        "jose\u0301@example.org",  # combining accent
    ],
)
def test_refused_with_a_plain_message(raw: str) -> None:
    with pytest.raises(IdentifierRefused) as refused:
        normalise_email(raw)
    assert refused.value.code == "email_characters"
    assert refused.value.message == PLAIN_ONLY


@given(st.text(min_size=1, max_size=40))
def test_a_refusal_never_repeats_what_was_typed(text: str) -> None:
    raw = "qzxv" + text
    try:
        normalise_email(raw)
    except IdentifierRefused as refused:
        assert "qzxv" not in refused.message
        assert str(refused) == refused.message


@given(st.text(min_size=1, max_size=60))
def test_whatever_is_accepted_is_printable_ascii_and_stable(text: str) -> None:
    try:
        email = normalise_email(text)
    except IdentifierRefused:
        return
    assert all("!" <= ch <= "~" for ch in email)
    assert normalise_email(email) == email
