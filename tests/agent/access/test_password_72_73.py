"""Passwords are never truncated: argon2id reads all of them, where bcrypt stops at 72 bytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.access.passwords import PasswordHasher, check_password_policy

PASSWORD_72 = ("Tq7-vlwe.Rz3!" * 6)[:72]
PASSWORD_73 = PASSWORD_72 + "Q"


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(time_cost=1, memory_cost_kib=64, allow_weak_for_tests=True)
    yield hasher
    hasher.close()


def test_both_lengths_pass_the_policy() -> None:
    assert (len(PASSWORD_72), len(PASSWORD_73)) == (72, 73)
    assert PASSWORD_73.startswith(PASSWORD_72)
    check_password_policy(PASSWORD_72)
    check_password_policy(PASSWORD_73)


async def test_72_and_73_characters_hash_and_verify_distinctly(hasher: PasswordHasher) -> None:
    hash_72 = await hasher.hash(PASSWORD_72)
    hash_73 = await hasher.hash(PASSWORD_73)

    assert await hasher.verify(hash_72, PASSWORD_72)
    assert await hasher.verify(hash_73, PASSWORD_73)
    assert not await hasher.verify(hash_72, PASSWORD_73)
    assert not await hasher.verify(hash_73, PASSWORD_72)


async def test_a_128_character_password_is_read_to_its_last_character(
    hasher: PasswordHasher,
) -> None:
    password = ("Tq7-vlwe.Rz3!" * 10)[:128]
    encoded = await hasher.hash(password)
    assert await hasher.verify(encoded, password)
    assert not await hasher.verify(encoded, password[:-1] + "?")
    assert not await hasher.verify(encoded, password[:-1])
