"""Password policy and argon2id hashing (DESIGN.md "Access rules").

Passwords are 12 to 128 characters, checked against a list of common passwords and the patient's
own details, and never truncated. They are compared in NFKC form (NIST SP 800-63B asks verifiers
to normalise), so the same password typed on two keyboards that compose accents differently still
matches; the length rule counts code points of that same form.

Hashing is argon2id, which reads the whole password whatever its length: a 72- and a 73-character
password that share their first 72 characters hash differently and never verify for each other
(bcrypt would silently ignore everything after byte 72). It runs on a small bounded thread pool,
never on the event loop: one hash is tens of milliseconds of CPU and 19 MiB of memory.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128

# DESIGN.md's floor (OWASP's minimum argon2id configuration): m = 19 MiB, t = 2, p = 1.
MIN_TIME_COST = 2
MIN_MEMORY_COST_KIB = 19 * 1024

# One code point decomposes canonically into at most 4 (U+1F85 and friends; Hangul syllables into
# 3), and NFKC only recomposes such sequences, so NFKC can shrink a string at most 4-fold. A raw
# string longer than this is therefore too long in NFKC as well, and is refused before it is
# even normalised (a test checks the bound against this Python's Unicode database).
_MAX_SHRINK = 4
_RAW_LENGTH_CAP = MAX_LENGTH * _MAX_SHRINK

_DIGITS = re.compile(r"[0-9]+")

_T = TypeVar("_T")


class PasswordRefused(ValueError):
    """A password the policy refuses; `.message` is safe to show the patient, `.code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _too_long() -> PasswordRefused:
    return PasswordRefused("too_long", f"Use at most {MAX_LENGTH} characters")


def _normalised(password: str) -> str:
    """The form that is measured and hashed; raises PasswordRefused("too_long") cheaply."""
    if len(password) > _RAW_LENGTH_CAP:
        raise _too_long()
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) > MAX_LENGTH:
        raise _too_long()
    return normalised


@functools.cache
def common_passwords() -> frozenset[str]:
    """The casefolded common-password list shipped in common_passwords.txt, loaded once."""
    text = (
        importlib.resources.files("agent.access")
        .joinpath("common_passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.casefold() for line in text.splitlines() if line and not line.startswith("#")
    )


def _personal_forms(personal: Iterable[str]) -> set[str]:
    forms: set[str] = set()
    for value in personal:
        folded = unicodedata.normalize("NFKC", value).casefold().strip()
        if folded:
            forms.add(folded)
            local, at, _ = folded.partition("@")
            if at and local:
                # An email's mailbox name is as guessable as the whole address.
                forms.add(local)
    return forms


def check_password_policy(password: str, *, personal: Iterable[str] = ()) -> None:
    """Raise PasswordRefused unless `password` may be set as a new password.

    `personal` holds the account's own details (email, username, first and last name...): the
    password may not be one of them, nor one of them followed only by digits ("kate1985").
    Length is checked first, before any list lookup and without hashing.
    """
    normalised = _normalised(password)
    if len(normalised) < MIN_LENGTH:
        raise PasswordRefused("too_short", f"Use at least {MIN_LENGTH} characters")
    # Spaces around a guessable password do not make it harder to guess; they stay part of the
    # password itself (nothing is stripped before hashing), only the comparison ignores them.
    folded = normalised.casefold().strip()
    if folded in common_passwords():
        raise PasswordRefused("common", "This password is too common; choose another")
    for form in _personal_forms(personal):
        if folded == form or (folded.startswith(form) and _DIGITS.fullmatch(folded[len(form) :])):
            raise PasswordRefused(
                "personal",
                "This password is too easy to guess from your name, email or username; "
                "choose another",
            )


class PasswordHasher:
    """argon2id hashing on a bounded thread pool; every method that hashes is async.

    `allow_weak_for_tests=True` lifts the DESIGN.md floor so that tests can use cheap parameters;
    the defaults are the floor itself.
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        time_cost: int = MIN_TIME_COST,
        memory_cost_kib: int = MIN_MEMORY_COST_KIB,
        parallelism: int = 1,
        allow_weak_for_tests: bool = False,
    ) -> None:
        if workers < 1 or parallelism < 1:
            raise ValueError("workers and parallelism must be at least 1")
        if not allow_weak_for_tests and (
            time_cost < MIN_TIME_COST or memory_cost_kib < MIN_MEMORY_COST_KIB
        ):
            raise ValueError(
                f"argon2id needs time_cost >= {MIN_TIME_COST} and memory_cost_kib >= "
                f"{MIN_MEMORY_COST_KIB} (DESIGN.md); got {time_cost} and {memory_cost_kib}"
            )
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        # Sign-in for an unknown account verifies against this hash so that it costs the same as
        # for a real one (DESIGN.md: same answer, same time). Its password is random and thrown
        # away, so nothing verifies against it. Made on the pool, so construction never blocks
        # the event loop; the pool is FIFO, so it is ready before any later job needs it.
        self._dummy: Future[str] = self._executor.submit(
            self._argon2.hash, secrets.token_urlsafe(32)
        )

    async def _run(self, fn: Callable[..., _T], *args: str) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def hash(self, password: str) -> str:
        """The encoded argon2id hash ("$argon2id$v=19$m=...") of the NFKC form of `password`.

        Raises PasswordRefused("too_long") for a password longer than MAX_LENGTH, which the
        policy refuses anyway; it does not apply the rest of the policy.
        """
        return await self._run(self._argon2.hash, _normalised(password))

    def _verify_sync(self, encoded: str, password: str) -> bool:
        try:
            return self._argon2.verify(encoded, password)
        except (VerificationError, InvalidHashError):
            # VerifyMismatchError (a wrong password) is a VerificationError.
            return False

    async def verify(self, encoded: str, password: str) -> bool:
        """Whether `password` matches `encoded`; False for a mismatch or a malformed hash."""
        try:
            normalised = _normalised(password)
        except PasswordRefused:
            return False  # no stored password is that long; refuse without the work
        return await self._run(self._verify_sync, encoded, normalised)

    def _verify_dummy_sync(self, password: str) -> bool:
        self._verify_sync(self._dummy.result(), password)
        return False

    async def verify_dummy(self, password: str) -> bool:
        """Do the work of `verify` against a fixed hash, and return False.

        For sign-in, forgot and reset when the account does not exist, so that they take as long
        as when it does.
        """
        try:
            normalised = _normalised(password)
        except PasswordRefused:
            return False
        return await self._run(self._verify_dummy_sync, normalised)

    def needs_rehash(self, encoded: str) -> bool:
        """Whether `encoded` was made with other parameters (or is unreadable): rehash at login."""
        try:
            return self._argon2.check_needs_rehash(encoded)
        except InvalidHashError:
            return True

    def close(self) -> None:
        """Stop the pool: queued jobs are cancelled, running ones finish."""
        self._executor.shutdown(wait=True, cancel_futures=True)
