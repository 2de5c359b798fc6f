"""The two cookies: `__Host-pre` before sign-in and `__Host-portico` (the agent's session token
and nothing else), both Secure, HttpOnly, SameSite=Lax, Path=/, without Domain, and gone when
the browser closes. A dead session sends the patient to sign in again."""

from __future__ import annotations

import hashlib
from http.cookies import SimpleCookie
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal


def parse(header: str) -> tuple[str, str, dict[str, str]]:
    cookie = SimpleCookie()
    cookie.load(header)
    ((name, morsel),) = cookie.items()
    lowered = header.lower()
    flags = {key: str(morsel[key]) for key in ("path", "domain", "samesite", "max-age", "expires")}
    flags["secure"] = "; secure" in lowered
    flags["httponly"] = "; httponly" in lowered
    return name, morsel.value, flags


def assert_host_only_secure(flags: dict[str, str]) -> None:
    assert flags["secure"] and flags["httponly"]
    assert flags["path"] == "/"
    assert flags["domain"] == ""
    assert flags["samesite"] == "Lax"


async def test_pre_session_cookie_on_first_visit_only(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        first = await browser.get("/sign-in")
        [header] = first.set_cookies
        name, value, flags = parse(header)
        assert name == "__Host-pre" and len(value) >= 32
        assert_host_only_secure(flags)
        assert flags["max-age"] == "" and flags["expires"] == ""  # a browser-session cookie

        assert (await browser.get("/sign-in")).set_cookies == []
        # A stylesheet is not a page with forms: no cookie for it, even on a first visit.
        assert (await site.browser().get("/static/portico.css")).set_cookies == []


async def test_session_cookie_is_the_agents_token_only(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        sign_in = next(p for p in browser.history if p.url == "/sign-in" and p.status == 303)
        [header] = sign_in.set_cookies
        name, value, flags = parse(header)
        assert name == "__Host-portico"
        assert_host_only_secure(flags)
        assert flags["max-age"] == "" and flags["expires"] == ""
        # Exactly the token the agent stored (hashed) for this patient's session.
        sessions = site.query(
            "SELECT s.token_hash FROM portal_sessions s JOIN portal_accounts a"
            " ON a.id = s.account_id WHERE a.patient_id = 1"
        )
        assert [s["token_hash"] for s in sessions] == [hashlib.sha256(value.encode()).hexdigest()]

        page = await browser.submit(browser.history[-1], "/sign-out")
        [cleared] = next(p for p in browser.history if p.url == "/sign-out").set_cookies
        name, value, flags = parse(cleared)
        assert name == "__Host-portico" and value == ""
        assert_host_only_secure(flags)  # a __Host- cookie is only replaced by a matching one
        assert flags["max-age"] == "0"
        assert page.url == "/sign-in?notice=signed_out"


async def test_an_expired_session_goes_to_sign_in_and_the_cookie_is_cleared(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        site.office.advance(minutes=31)  # past the agent's 30-minute idle timeout
        page = await browser.get("/appointments")
        assert page.url == "/sign-in?notice=expired"
        assert "You were signed out. Please sign in again." in page.visible_text
        assert "__Host-portico" not in browser.cookies


async def test_a_cookie_that_is_not_a_token_is_ignored(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        for value in ("x", "<script>", "A" * 200, "'; DROP TABLE"):
            browser = site.browser()
            browser.cookies["__Host-portico"] = value
            page = await browser.get("/appointments")
            assert page.url == "/sign-in?notice=required"
