"""Whitespace around an address and its case do not make a different account."""

from __future__ import annotations

import pytest

from agent.access.identifiers import normalise_email


@pytest.mark.parametrize(
    "raw",
    [
        "jane.doe@example.org",
        "Jane.Doe@Example.ORG",
        "  jane.doe@example.org  ",
        "\tJANE.DOE@EXAMPLE.ORG\n",
        "\u00a0jane.doe@example.org\u3000",  # no-break and ideographic spaces around it
    ],
)
def test_variants_normalise_to_one_address(raw: str) -> None:
    assert normalise_email(raw) == "jane.doe@example.org"
