"""A 10,000-character password is refused on its length alone: no hashing, no list lookup."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import argon2
import pytest

from agent.access import passwords
from agent.access.passwords import PasswordHasher, PasswordRefused, check_password_policy

HUGE = "x" * 10_000


def forbidden(*args: object, **kwargs: object) -> None:
    raise AssertionError("an over-long password must be refused before this runs")


@pytest.fixture
def nothing_expensive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(argon2.PasswordHasher, "hash", forbidden)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", forbidden)
    monkeypatch.setattr(passwords, "common_passwords", forbidden)
    # Only passwords.py's view of unicodedata: pytest itself normalises text while reporting.
    monkeypatch.setattr(passwords, "unicodedata", SimpleNamespace(normalize=forbidden))


@pytest.fixture
def hasher() -> Iterator[PasswordHasher]:
    hasher = PasswordHasher(time_cost=1, memory_cost_kib=8, allow_weak_for_tests=True)
    hasher._dummy.result()  # made before the patches, so it is not mistaken for a leak
    yield hasher
    hasher.close()


@pytest.mark.usefixtures("nothing_expensive")
def test_the_policy_refuses_on_length_first() -> None:
    with pytest.raises(PasswordRefused) as refused:
        check_password_policy(HUGE, personal=["kate@example.org"])
    assert refused.value.code == "too_long"


async def test_the_hasher_never_hashes_it(hasher: PasswordHasher, nothing_expensive: None) -> None:
    with pytest.raises(PasswordRefused):
        await hasher.hash(HUGE)
    assert await hasher.verify("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", HUGE) is False
    assert await hasher.verify_dummy(HUGE) is False
