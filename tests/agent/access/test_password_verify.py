"""verify answers True or False and never raises for a wrong password or a damaged hash;
verify_dummy does the same work for an account that does not exist, and answers False."""

from __future__ import annotations

from collections.abc import Iterator

import argon2
import pytest

from agent.access.passwords import PasswordHasher

PASSWORD = "correct horse battery staple"


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(time_cost=1, memory_cost_kib=64, allow_weak_for_tests=True)
    yield hasher
    hasher.close()


async def test_right_and_wrong_passwords(hasher: PasswordHasher) -> None:
    encoded = await hasher.hash(PASSWORD)
    assert await hasher.verify(encoded, PASSWORD) is True
    assert await hasher.verify(encoded, "Correct horse battery staple") is False
    assert await hasher.verify(encoded, "") is False


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=64,t=1,p=1$",
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$!!!!",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$" + "A" * 10,
    ],
)
async def test_a_malformed_hash_verifies_nothing(hasher: PasswordHasher, malformed: str) -> None:
    assert await hasher.verify(malformed, PASSWORD) is False


async def test_a_hash_from_another_password_is_false_not_an_error(
    hasher: PasswordHasher,
) -> None:
    other = await hasher.hash("a different password")
    assert await hasher.verify(other, PASSWORD) is False


async def test_verify_dummy_is_always_false(hasher: PasswordHasher) -> None:
    for password in [PASSWORD, "", "x" * 128, "\u212aate"]:
        assert await hasher.verify_dummy(password) is False


async def test_verify_dummy_does_a_real_verification_with_the_same_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, encoded: str | bytes, password: str | bytes) -> bool:
        checked.append(str(encoded))
        return real_verify(self, encoded, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    hasher = PasswordHasher()  # production parameters
    try:
        assert await hasher.verify_dummy(PASSWORD) is False
        real = await hasher.hash(PASSWORD)
        assert await hasher.verify(real, PASSWORD) is True
    finally:
        hasher.close()

    dummy_hash = checked[0]
    assert dummy_hash != real
    # The same algorithm and cost as a real account's hash, so the same time.
    assert dummy_hash.split("$")[1:4] == real.split("$")[1:4]


async def test_each_hasher_makes_its_own_dummy() -> None:
    first = PasswordHasher(time_cost=1, memory_cost_kib=8, allow_weak_for_tests=True)
    second = PasswordHasher(time_cost=1, memory_cost_kib=8, allow_weak_for_tests=True)
    try:
        assert first._dummy.result() != second._dummy.result()
    finally:
        first.close()
        second.close()
