"""Which addresses are accepted, and which refusal each bad one gets."""

from __future__ import annotations

import pytest

from agent.access.identifiers import IdentifierRefused, normalise_email

LOCAL_64 = "l" * 64
# 64 + 1 + 189 = 254 characters, the most an address may have.
DOMAIN_189 = f"{'a' * 63}.{'b' * 63}.{'c' * 57}.org"

VALID = [
    "jane.doe@example.org",
    "jane+portal@example.org",
    "o'brien@example.ie",
    "first_last-1@sub-domain.example.com",
    "a@b.co",
    "user@mail.example.co.uk",
    "kira@xn--bcher-kva.example",  # an internationalised domain, given in xn-- form
    "kira@example.xn--p1ai",  # ... and an internationalised top-level domain
    "1234@123.example",
    "!#$%&'*+/=?^_`{|}~-@example.org",
    f"{LOCAL_64}@example.org",
    f"kate@{'d' * 63}.example",
    f"{LOCAL_64}@{DOMAIN_189}",
]

INVALID = [
    ("", "email_empty"),
    ("   ", "email_empty"),
    ("jane", "email_incomplete"),
    ("jane.example.org", "email_incomplete"),
    ("jane@", "email_incomplete"),
    ("@example.org", "email_incomplete"),
    ("a@b@example.org", "email_at_signs"),
    ('"a@b"@example.org', "email_at_signs"),
    ("jane doe@example.org", "email_whitespace"),
    ("jane@example .org", "email_whitespace"),
    ("jane\t@example.org", "email_whitespace"),
    ("jane\n@example.org", "email_whitespace"),
    ("jane\x00@example.org", "email_whitespace"),
    ("jane\x7f@example.org", "email_whitespace"),
    (".jane@example.org", "email_local_part"),
    ("jane.@example.org", "email_local_part"),
    ("ja..ne@example.org", "email_local_part"),
    ('"jane"@example.org', "email_local_part"),
    ("jane(work)@example.org", "email_local_part"),
    ("jane,doe@example.org", "email_local_part"),
    ("jane;doe@example.org", "email_local_part"),
    ("<jane@example.org>", "email_local_part"),
    ("jane\\doe@example.org", "email_local_part"),
    ("jane@localhost", "email_domain"),
    ("jane@example", "email_domain"),
    ("jane@-example.org", "email_domain"),
    ("jane@example-.org", "email_domain"),
    ("jane@exa_mple.org", "email_domain"),
    ("jane@example..org", "email_domain"),
    ("jane@example.org.", "email_domain"),
    ("jane@.example.org", "email_domain"),
    ("jane@[192.168.0.1]", "email_domain"),
    ("jane@192.168.0.1", "email_domain"),
    ("jane@example.c", "email_domain"),
    ("jane@example.123", "email_domain"),
    ("jane@example.o-g", "email_domain"),
    ("jane@example.org>", "email_domain"),
    (f"kate@{'d' * 64}.example", "email_domain"),
    (f"{'l' * 65}@example.org", "email_local_too_long"),
    (f"{LOCAL_64}@{DOMAIN_189}x", "email_too_long"),
]


@pytest.mark.parametrize("raw", VALID)
def test_valid_addresses_are_kept_as_typed(raw: str) -> None:
    assert normalise_email(raw) == raw


@pytest.mark.parametrize(("raw", "code"), INVALID)
def test_invalid_addresses_are_refused(raw: str, code: str) -> None:
    with pytest.raises(IdentifierRefused) as refused:
        normalise_email(raw)
    assert refused.value.code == code
    assert refused.value.message


def test_the_incomplete_message_says_what_is_missing() -> None:
    with pytest.raises(IdentifierRefused) as refused:
        normalise_email("jane")
    assert refused.value.message == (
        "This email address is not complete (it needs an @ and a domain)"
    )


def test_the_table_edges_are_the_limits() -> None:
    assert len(f"{LOCAL_64}@{DOMAIN_189}") == 254
