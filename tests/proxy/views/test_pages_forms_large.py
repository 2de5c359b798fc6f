"""A long answer in a non-Latin script reaches the agent: the form save route reads bodies up
to FORM_SAVE_MAX_BODY, while every other route keeps the small MAX_BODY limit.

A browser sends each Chinese character URL-encoded as nine bytes (%E6%BC%A2), so the longest
answer a form may ask for (10,000 characters) is about 90 KB on the wire, above MAX_BODY."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from agent.db.pool import DatabaseSettings
from proxy.middlewares import FORM_SAVE_MAX_BODY, MAX_BODY
from tests.agent.forms.seeding import assign_form
from tests.proxy.portal import Browser, Page, Portal, portal
from tests.proxy.views.clinical_pages_fixtures import form_pairs

STORY = """\
key: story
title: Your story
fields:
  - name: story
    label: Tell us in your own words
    type: multiline
    max_length: 10000
    required: true
"""
# 10,000 characters: 100 lines of 99 Chinese characters (one from outside the BMP: four UTF-8
# bytes) and a full stop; a browser sends the text area's line breaks as CRLF.
_LINE = ("病人的故事" * 20)[:98] + "\U00020000"
LONG_ANSWER = "\n".join([_LINE] * 100) + "。"
TYPED_LONG_ANSWER = LONG_ANSWER.replace("\n", "\r\n")


def _stored(site: Portal, assignment: int) -> dict[str, Any]:
    (row,) = site.query(
        "SELECT status, answers FROM portal_form_assignments WHERE id = %s", (assignment,)
    )
    return {"status": row["status"], "answers": json.loads(row["answers"] or "null")}


async def _send(browser: Browser, page: Page, action: str, answer: str, button: str) -> Page:
    pairs = [(k, v) for k, v in form_pairs(page, action) if k != "answer.story"]
    pairs += [("answer.story", answer), ("action", button)]
    return await browser.request("POST", action, data=pairs)  # type: ignore[arg-type]


async def _opened(site: Portal, assignment: int) -> tuple[Browser, Page]:
    browser = await site.signed_in(1)
    page = await browser.get(f"/forms/{assignment}")
    assert page.status == 200, page.visible_text
    return browser, page


def test_the_long_answer_is_bigger_than_the_ordinary_body_limit() -> None:
    assert len(LONG_ANSWER) == 10_000
    body = urlencode({"answer.story": TYPED_LONG_ANSWER})
    assert MAX_BODY < len(body) < FORM_SAVE_MAX_BODY


async def test_a_draft_with_a_long_chinese_answer_is_kept_intact(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, STORY)
        browser, page = await _opened(site, assignment)

        saved = await _send(browser, page, f"/forms/{assignment}", TYPED_LONG_ANSWER, "save")

        assert saved.url == f"/forms/{assignment}?notice=saved", saved.visible_text
        assert _stored(site, assignment) == {
            "status": "draft",
            "answers": {"story": LONG_ANSWER},
        }
        assert f">\n{LONG_ANSWER}</textarea>" in saved.text


async def test_a_long_chinese_answer_is_sent_intact(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, STORY)
        browser, page = await _opened(site, assignment)

        sent = await _send(browser, page, f"/forms/{assignment}", TYPED_LONG_ANSWER, "submit")

        assert sent.url == "/forms?notice=sent", sent.visible_text
        assert _stored(site, assignment) == {
            "status": "submitted",
            "answers": {"story": LONG_ANSWER},
        }


async def test_a_form_save_above_its_limit_gets_the_too_large_page(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, STORY)
        browser, page = await _opened(site, assignment)
        huge = "x" * (FORM_SAVE_MAX_BODY + 1)

        refused = await _send(browser, page, f"/forms/{assignment}", huge, "save")

        assert refused.status == 413
        assert "The form was too large." in refused.visible_text
        assert _stored(site, assignment) == {"status": "assigned", "answers": None}


async def test_other_routes_keep_the_small_body_limit(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        page = await browser.get("/sign-in")
        long_login = "x" * MAX_BODY

        refused = await browser.submit(page, "/sign-in", login=long_login, password="whatever")

        assert refused.status == 413
        assert "The form was too large." in refused.visible_text
