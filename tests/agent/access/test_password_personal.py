"""A password may not be the patient's own email, username or name, nor one of them + digits."""

from __future__ import annotations

import pytest

from agent.access.passwords import PasswordRefused, check_password_policy

PERSONAL = ["Kate.Smithers@Example.org", "ksmithers-home", "Katherine", "Smithersonian"]


@pytest.mark.parametrize(
    "password",
    [
        "kate.smithers@example.org",
        "KATE.SMITHERS@EXAMPLE.ORG",
        "  kate.smithers@example.org  ",  # 29 characters, but only spaces added to the email
        "kate.smithers1985",  # the email's mailbox name plus digits
        "ksmithers-home",
        "KSmithers-Home2024",
        "Katherine198501",
        "smithersonian",
        "Smithersonian7",
    ],
)
def test_personal_details_are_refused(password: str) -> None:
    with pytest.raises(PasswordRefused) as refused:
        check_password_policy(password, personal=PERSONAL)
    assert refused.value.code == "personal"
    assert "choose another" in refused.value.message
    for detail in PERSONAL:
        assert detail.casefold() not in refused.value.message.casefold()


@pytest.mark.parametrize(
    "password",
    [
        "katherine loves rowing",
        "smithersonian-bridge",
        "1985katherine99",
        "kate.smithers@example.org.uk",
    ],
)
def test_passwords_that_only_contain_a_detail_are_accepted(password: str) -> None:
    check_password_policy(password, personal=PERSONAL)


def test_without_personal_details_the_same_password_is_accepted() -> None:
    check_password_policy("Katherine198501")


def test_blank_details_are_ignored() -> None:
    check_password_policy("Vq8!mZr2#pLw", personal=["", "   ", "\u3000"])


def test_details_can_be_any_iterable() -> None:
    with pytest.raises(PasswordRefused):
        check_password_policy("smithersonian", personal=(d for d in PERSONAL))
