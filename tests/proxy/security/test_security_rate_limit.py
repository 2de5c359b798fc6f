"""Per-address limits on sign-in, forgot-password and register, and which address counts:
the peer's, or behind a trusted load balancer the right-most untrusted X-Forwarded-For entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from proxy.ratelimit import RateLimiter
from tests.agent.access_fixtures import PASSWORD, email_of
from tests.proxy.portal import Browser, Page, portal

LIMITS = {"sign_in_per_minute": 1, "forgot_per_minute": 1, "burst": 2}


async def attempt(browser: Browser, forwarded: str | None = None, password: str = "wrong") -> Page:
    form = (await browser.get("/sign-in")).form("/sign-in").fields
    headers = {"X-Forwarded-For": forwarded} if forwarded else None
    return await browser.post(
        "/sign-in", {**form, "login": email_of(1), "password": password}, headers=headers
    )


async def test_sign_in_is_limited_per_address(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, rate_limit=LIMITS) as site:
        await site.office.set_password(1, PASSWORD)
        browser = site.browser()
        statuses = [(await attempt(browser)).status for _ in range(4)]
        assert statuses == [401, 401, 401, 429]  # 1 + burst, then none
        limited = await attempt(browser, password=PASSWORD)  # even the right password waits
        assert limited.status == 429
        assert "Too many attempts; wait a minute" in limited.visible_text
        assert "+1 555 0100" in limited.visible_text
        # Refused before the agent: it saw three attempts, not five.
        audit = site.query("SELECT COUNT(*) AS n FROM portal_audit WHERE action = 'access.sign_in'")
        assert audit[0]["n"] == 3
        # X-Forwarded-For from an untrusted peer is the client's own say-so: ignored.
        assert (await attempt(browser, forwarded="198.51.100.1")).status == 429


async def test_forgot_and_register_share_a_limit(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    offered = {"self_registration": True}  # otherwise /register shows no form
    async with portal(practice_db, link_keys, tmp_path, access=offered, rate_limit=LIMITS) as site:
        browser = site.browser()
        forgot = (await browser.get("/forgot")).form("/forgot").fields
        register = (await browser.get("/register")).form("/register").fields
        statuses = [
            (await browser.post("/forgot", {**forgot, "login": email_of(1)})).status,
            (await browser.post("/register", register)).status,
            (await browser.post("/forgot", {**forgot, "login": email_of(2)})).status,
            (await browser.post("/register", register)).status,
            (await browser.post("/forgot", {**forgot, "login": email_of(3)})).status,
        ]
        assert statuses == [200, 422, 200, 429, 429]
        # Sign-in has its own budget.
        assert (await attempt(browser)).status == 401


async def test_behind_a_trusted_proxy_the_forwarded_client_counts(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(
        practice_db, link_keys, tmp_path, rate_limit=LIMITS, trusted_proxies=["127.0.0.0/8"]
    ) as site:
        await site.office.set_password(1, PASSWORD)
        browser = site.browser()
        # The patient's address is the right-most entry not added by a trusted proxy; the
        # left-most one here is made up by the client and must not matter.
        for spoofed in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
            page = await attempt(browser, forwarded=f"{spoofed}, 203.0.113.7, 127.0.0.5")
            assert page.status == 401
        assert (await attempt(browser, forwarded="9.9.9.9, 203.0.113.7")).status == 429
        # Another patient behind the same load balancer is not held up.
        ok = await attempt(browser, forwarded="198.51.100.20", password=PASSWORD)
        assert ok.url == "/appointments"

        ips = site.query(
            "SELECT DISTINCT client_ip FROM portal_audit WHERE action = 'access.sign_in'"
            " ORDER BY client_ip"
        )
        assert [r["client_ip"] for r in ips] == ["198.51.100.20", "203.0.113.7"]


def test_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=6, capacity=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    now[0] += 9.9
    assert not limiter.allow("a")
    now[0] += 0.2  # 10 s for one token at 6 a minute
    assert limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")  # every key has its own bucket


def test_memory_is_bounded_and_the_least_recent_go_first() -> None:
    limiter = RateLimiter(per_minute=1, capacity=1, max_tracked=3, clock=lambda: 0.0)
    for key in ("a", "b", "c"):
        assert limiter.allow(key)
    assert not limiter.allow("a")  # "a" is now the most recently seen
    assert limiter.allow("d")  # evicts "b", the least recently seen
    assert len(limiter) == 3
    assert not limiter.allow("a") and not limiter.allow("c")
    assert limiter.allow("b")  # forgotten, so it starts over


@pytest.mark.parametrize("bad", [(0, 1), (1, 0), (-1, 5)])
def test_nonsense_limits_are_refused(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(*bad)
