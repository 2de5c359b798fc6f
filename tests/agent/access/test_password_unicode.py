"""Passwords are hashed in NFKC form, so the same password typed with a precomposed or a
combining accent, or in fullwidth, still signs in; nothing else is folded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.access.passwords import PasswordHasher

COMPOSED = "caf\u00e9 au lait, s'il vous pla\u00eet"
DECOMPOSED = "cafe\u0301 au lait, s'il vous plai\u0302t"


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(time_cost=1, memory_cost_kib=64, allow_weak_for_tests=True)
    yield hasher
    hasher.close()


async def test_composed_and_decomposed_accents_are_one_password(hasher: PasswordHasher) -> None:
    assert COMPOSED != DECOMPOSED
    assert await hasher.verify(await hasher.hash(COMPOSED), DECOMPOSED)
    assert await hasher.verify(await hasher.hash(DECOMPOSED), COMPOSED)


async def test_fullwidth_is_the_same_password(hasher: PasswordHasher) -> None:
    encoded = await hasher.hash("Tq7-vlwe.Rz3")
    assert await hasher.verify(encoded, "".join(chr(ord(c) + 0xFEE0) for c in "Tq7-vlwe.Rz3"))


async def test_case_and_spaces_still_matter(hasher: PasswordHasher) -> None:
    encoded = await hasher.hash(COMPOSED)
    assert not await hasher.verify(encoded, COMPOSED.upper())
    assert not await hasher.verify(encoded, f" {COMPOSED}")
    assert not await hasher.verify(encoded, COMPOSED.replace(" ", ""))
