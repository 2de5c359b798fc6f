"""Issue 11: "The sign-in page links to 'create an account' when self-registration is off, and
then shows a 10-field form that refuses after submit. Hide it when off." The proxy learns the
office's setting from the agent (practice.info), and /register says at once that the office
does not offer it."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal


async def test_without_self_registration_no_link_and_no_form(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        sign_in = await browser.get("/sign-in")
        assert sign_in.status == 200
        assert sign_in.links(r"/register") == []
        assert "create an account" not in sign_in.visible_text
        assert "invitation email" in sign_in.visible_text

        register = await browser.get("/register")

        assert register.status == 403
        assert "does not take sign-ups online. Please call +1 555 0100." in register.visible_text
        assert [f for f in register.forms() if f.action == "/register"] == []
        assert 'name="password"' not in register.text


async def test_with_self_registration_the_link_and_the_form(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access={"self_registration": True}) as site:
        browser = site.browser()
        sign_in = await browser.get("/sign-in")
        assert sign_in.links(r"^/register$")
        register = await browser.get("/register")
        assert register.status == 200
        assert register.form("/register").fields.keys() >= {"first_name", "email", "password"}
