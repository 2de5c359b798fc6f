"""Common passwords are refused, whatever their case or compatibility form."""

from __future__ import annotations

import pytest

from agent.access.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    PasswordRefused,
    check_password_policy,
    common_passwords,
)

# Entries of common_passwords.txt long enough to pass the length rule.
FROM_THE_LIST = ["password1234", "qwerty123456", "1qaz2wsx3edc", "leavemealone", "justinbieber"]


def fullwidth(ascii_text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) for ch in ascii_text)


def assert_common(password: str) -> None:
    with pytest.raises(PasswordRefused) as refused:
        check_password_policy(password)
    assert refused.value.code == "common"
    assert refused.value.message == "This password is too common; choose another"


@pytest.mark.parametrize("password", FROM_THE_LIST)
def test_listed_passwords_are_refused(password: str) -> None:
    assert password in common_passwords()
    assert_common(password)


@pytest.mark.parametrize(
    "password",
    ["PASSWORD1234", "Password1234", "QwErTy123456", fullwidth("Password1234"), " password1234 "],
)
def test_case_width_and_spaces_do_not_make_a_listed_password_acceptable(password: str) -> None:
    assert_common(password)


def test_every_listed_password_of_an_allowed_length_is_refused() -> None:
    allowed = [p for p in common_passwords() if MIN_LENGTH <= len(p) <= MAX_LENGTH]
    assert len(allowed) > 100
    for password in allowed:
        assert_common(password)


def test_a_listed_password_with_more_added_is_not_on_the_list() -> None:
    check_password_policy("password1234 and then some")
