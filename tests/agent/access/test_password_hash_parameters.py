"""Production hashes are argon2id with at least DESIGN.md's floor: m >= 19 MiB, t >= 2."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from agent.access.passwords import PasswordHasher

ENCODED = re.compile(
    r"\$(?P<type>argon2(?:id|i|d))\$v=(?P<version>\d+)"
    r"\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)"
)
PASSWORD = "correct horse battery staple"


def parse(encoded: str) -> dict[str, str]:
    match = ENCODED.fullmatch(encoded)
    assert match, encoded
    return match.groupdict()


@pytest.fixture
def production() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher()  # the defaults, with real argon2
    yield hasher
    hasher.close()


async def test_default_hashes_are_argon2id_at_or_above_the_floor(
    production: PasswordHasher,
) -> None:
    encoded = await production.hash(PASSWORD)
    fields = parse(encoded)
    assert fields["type"] == "argon2id"
    assert fields["version"] == "19"
    assert int(fields["m"]) >= 19456
    assert int(fields["t"]) >= 2
    assert int(fields["p"]) >= 1
    assert await production.verify(encoded, PASSWORD)
    assert not await production.verify(encoded, PASSWORD + "!")
    assert not production.needs_rehash(encoded)


async def test_each_hash_has_its_own_salt(production: PasswordHasher) -> None:
    first, second = await production.hash(PASSWORD), await production.hash(PASSWORD)
    assert parse(first)["salt"] != parse(second)["salt"]
    assert first != second


@pytest.mark.parametrize(
    "weak", [{"time_cost": 1}, {"memory_cost_kib": 19 * 1024 - 1}, {"memory_cost_kib": 8}]
)
def test_parameters_below_the_floor_are_refused(weak: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"DESIGN\.md"):
        PasswordHasher(**weak)


@pytest.mark.parametrize("bad", [{"workers": 0}, {"parallelism": 0}])
def test_a_hasher_needs_a_worker_and_a_lane(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PasswordHasher(**bad)


async def test_weak_parameters_only_when_asked_for_and_then_flagged_for_rehash(
    production: PasswordHasher,
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost_kib=8, allow_weak_for_tests=True)
    try:
        encoded = await weak.hash(PASSWORD)
    finally:
        weak.close()
    assert parse(encoded)["m"] == "8"
    # A production hasher still verifies it (parameters are read from the hash), and says to
    # rehash it at the next successful sign-in.
    assert await production.verify(encoded, PASSWORD)
    assert production.needs_rehash(encoded)


def test_an_unreadable_hash_needs_rehashing(production: PasswordHasher) -> None:
    assert production.needs_rehash("not a hash")
