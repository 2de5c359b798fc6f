"""Sign-in and "forgot password" do not tell whether an account exists: the same answer, byte
for byte, in the same time (DESIGN.md "Access rules"), with the production argon2id settings.

Timing assertions are normally avoided in this suite; this one is required by the issue. It
compares medians over 200 trials per kind, interleaved (ABBA) so that drift hits both kinds
alike, with a 10 ms margin - far below one argon2id verification (tens of ms), which is what
an account-existence leak through sign-in would cost.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agent.access.passwords import MIN_MEMORY_COST_KIB, MIN_TIME_COST
from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.agent.access_fixtures import (
    OTHER_PASSWORD,
    AccessPractice,
    access_practice,
    email_of,
)

TRIALS = 200  # per kind (existing, unknown) and per endpoint
WARM_UP = 10
MARGIN_MS = 10.0
P = 9
EXISTING = email_of(P)
UNKNOWN = "pat9x@example.org"  # the same shape and length, no account


def answer(result: Any = None, error: RemoteError | None = None) -> Any:
    if error is not None:
        return ("error", error.code, error.message, error.retryable, error.details)
    return ("result", result)


async def measure(
    call: Callable[[str], Awaitable[Any]],
) -> tuple[dict[str, set[str]], dict[str, list[float]]]:
    """Answers (as repr) and times in ms for each login kind, ABBA-interleaved."""
    answers: dict[str, set[str]] = {EXISTING: set(), UNKNOWN: set()}
    times: dict[str, list[float]] = {EXISTING: [], UNKNOWN: []}
    order = [EXISTING, UNKNOWN, UNKNOWN, EXISTING]
    for i in range(2 * (TRIALS + WARM_UP)):
        login = order[i % 4]
        started = time.perf_counter()
        try:
            got = answer(await call(login))
        except RemoteError as error:
            got = answer(error=error)
        elapsed = (time.perf_counter() - started) * 1000
        answers[login].add(repr(got))
        if i >= 2 * WARM_UP:
            times[login].append(elapsed)
    return answers, times


def report(endpoint: str, times: dict[str, list[float]]) -> float:
    existing, unknown = statistics.median(times[EXISTING]), statistics.median(times[UNKNOWN])
    print(
        f"\nENUMERATION {endpoint}: median existing {existing:.2f} ms, unknown {unknown:.2f} ms,"
        f" difference {abs(existing - unknown):.2f} ms"
        f" ({len(times[EXISTING])} + {len(times[UNKNOWN])} trials)"
    )
    return abs(existing - unknown)


async def with_account(practice: AccessPractice) -> None:
    hasher = practice.agent.access.hasher
    encoded = await hasher.hash("the-real-password-of-pat9")
    assert f"$m={MIN_MEMORY_COST_KIB},t={MIN_TIME_COST}," in encoded  # production parameters
    await practice.set_password(P, "the-real-password-of-pat9")


async def test_sign_in_answers_the_same_in_the_same_time(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, production_hasher=True) as practice:
        await with_account(practice)

        async def sign_in(login: str) -> Any:
            return await practice.call("access.sign_in", login=login, password=OTHER_PASSWORD)

        answers, times = await measure(sign_in)
        assert len(answers[EXISTING]) == 1
        assert answers[EXISTING] == answers[UNKNOWN]
        assert "unauthenticated" in next(iter(answers[EXISTING]))
        assert len(times[EXISTING]) == len(times[UNKNOWN]) == TRIALS
        assert report("access.sign_in", times) < MARGIN_MS


async def test_forgot_password_answers_the_same_in_the_same_time(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, production_hasher=True) as practice:
        await with_account(practice)

        async def forgot(login: str) -> Any:
            return await practice.call("access.forgot_password", login=login)

        answers, times = await measure(forgot)
        assert len(answers[EXISTING]) == 1
        assert answers[EXISTING] == answers[UNKNOWN]
        assert "check_email" in next(iter(answers[EXISTING]))
        assert len(times[EXISTING]) == len(times[UNKNOWN]) == TRIALS
        assert report("access.forgot_password", times) < MARGIN_MS
        # It really did mail the existing account, and only it, up to the hourly cap.
        sent = await practice.deliver()
        assert {tuple(m.rcpt_tos) for m in sent} == {(EXISTING,)}
        assert len(sent) == practice.agent.access.rules.reset_emails_per_hour


async def test_sign_up_answers_the_same_in_the_same_time_whether_or_not_a_chart_matches(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    """Being a patient here is PHI: a sign-up matching a chart (under another address, so the
    office is to be called) must not answer later than one matching nobody. The cheap hasher:
    the password is hashed alike on both paths, and argon2id's own spread would hide a
    difference in the database work this compares."""
    async with access_practice(
        practice_db, link_keys, access={"self_registration": True}
    ) as practice:
        practice.execute(
            "INSERT INTO patients (first_name, last_name, date_of_birth, email, home_zip)"
            " VALUES ('Zoë', 'Ångström', '1985-04-12', 'zoe.angstrom@example.org', '02139')"
        )
        names = {EXISTING: ("Zoë", "Ångström"), UNKNOWN: ("Zoë", "Ångströn")}

        async def register(login: str) -> Any:
            first, last = names[login]
            return await practice.call(
                "access.register",
                first_name=first,
                last_name=last,
                date_of_birth="1985-04-12",
                zip="02139",
                email="someone.else@example.org",
                password=OTHER_PASSWORD,
            )

        answers, times = await measure(register)
        assert len(answers[EXISTING]) == 1
        assert answers[EXISTING] == answers[UNKNOWN]
        assert len(times[EXISTING]) == len(times[UNKNOWN]) == TRIALS
        assert report("access.register", times) < MARGIN_MS
