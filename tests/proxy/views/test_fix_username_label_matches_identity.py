"""Issue 11: "In username mode, 'Username (optional)' is required." The label follows the
agent's `access.identity`: required (and so labelled) in username mode, optional otherwise."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import email_of, link_token
from tests.proxy.portal import Page, Portal, portal

LABEL_REQUIRED = '<label for="username">Username</label>'
LABEL_OPTIONAL = '<label for="username">Username (optional)</label>'


async def activation_page(site: Portal) -> Page:
    await site.office.staff.invite(3)
    token = link_token(await site.office.one_mail(email_of(3)), "/activate")
    return await site.browser().get(f"/activate?token={token}")


async def test_username_mode_asks_for_a_username_without_optional(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    access = {"identity": "username", "self_registration": True}
    async with portal(practice_db, link_keys, tmp_path, access=access) as site:
        for page in (await activation_page(site), await site.browser().get("/register")):
            assert page.status == 200, page.visible_text
            assert LABEL_REQUIRED in page.text
            assert "optional" not in page.visible_text.lower()
            assert "leave this empty" not in page.visible_text


async def test_email_mode_keeps_the_username_optional(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access={"self_registration": True}) as site:
        for page in (await activation_page(site), await site.browser().get("/register")):
            assert page.status == 200, page.visible_text
            assert LABEL_OPTIONAL in page.text
