"""Masked addresses for notices ("we sent a link to j***@example.org")."""

from __future__ import annotations

import pytest

from agent.access.identifiers import mask_email, normalise_email


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("jane@example.org", "j***@example.org"),
        ("j@example.org", "j***@example.org"),
        ("jane.elizabeth.doe@mail.example.co.uk", "j***@mail.example.co.uk"),
    ],
)
def test_keeps_the_first_character_and_the_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


def test_the_mask_does_not_reveal_the_length() -> None:
    assert len(mask_email("jo@example.org")) == len(mask_email("jonathan@example.org"))


def test_works_on_what_normalise_email_returns() -> None:
    assert mask_email(normalise_email("  Jane.Doe@Example.org ")) == "j***@example.org"


@pytest.mark.parametrize("not_an_address", ["", "jane", "@example.org"])
def test_refuses_what_is_not_a_normalised_address(not_an_address: str) -> None:
    with pytest.raises(ValueError):
        mask_email(not_an_address)
