"""Forms through the pages, against the real agent: the list with its status words, every field
type drawn natively, drafts, the agent's complaints next to their fields, sending once, and
another patient's forms staying out of reach."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from tests.agent.forms.seeding import CHECKUP, CHECKUP_SENT, INTAKE, assign_form
from tests.proxy.portal import Browser, Page, Portal, portal
from tests.proxy.views.clinical_pages_fixtures import ESCAPED_SCRIPT, SCRIPT, fill_in

SAVE = ("action", "save")
SEND = ("action", "submit")
# CHECKUP's answers as a patient types them into the page.
TYPED = {
    "answer.nickname": "Pat",
    "answer.born.month": "1",
    "answer.born.day": "1",
    "answer.born.year": "1970",
    "answer.smoker": "no",
    "answer.colour": "green",
    "answer.symptoms": ["fever", "cough"],
    "answer.weight": "165.5",
    "answer.notes": "",
}


def _assignment(site: Portal, assignment: int) -> dict[str, Any]:
    (row,) = site.query(
        "SELECT status, answers FROM portal_form_assignments WHERE id = %s", (assignment,)
    )
    answers = json.loads(row["answers"]) if row["answers"] else None
    return {"status": row["status"], "answers": answers}


async def _open(site: Portal, assignment: int) -> tuple[Browser, Page]:
    browser = await site.signed_in(1)
    page = await browser.get(f"/forms/{assignment}")
    assert page.status == 200, page.visible_text
    return browser, page


async def test_list_says_what_is_left_to_do_in_words(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        todo = assign_form(practice_db, 1, INTAKE)
        draft = assign_form(practice_db, 1, CHECKUP.replace("key: checkup", "key: draft-one"))
        sent = assign_form(practice_db, 1, CHECKUP)
        browser, page = await _open(site, draft)
        await fill_in(browser, page, f"/forms/{draft}", SAVE, **{"answer.nickname": "Pat"})
        page = await browser.get(f"/forms/{sent}")
        await fill_in(browser, page, f"/forms/{sent}", SEND, **TYPED)

        listing = await browser.get("/forms")

        text = listing.visible_text
        assert listing.links(rf"^/forms/{todo}$") and listing.links(rf"^/forms/{draft}$")
        assert "New patient questionnaire Status: To do" in text
        assert "Check-up questions Status: Draft saved" in text
        assert "Check-up questions Status: Sent on Monday, November 23, 2026" in text


async def test_every_field_type_is_drawn_with_the_browsers_own_control(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        _, page = await _open(site, assignment)

        html = page.text
        assert 'id="q1" name="answer.nickname" type="text" maxlength="40"' in html
        assert 'id="q2" name="answer.born.month" type="text" inputmode="numeric"' in html
        assert 'id="q2-hint">As on your insurance card. Month, day and year.' in html
        assert "<legend>Do you smoke? <span" in html
        assert html.count('type="radio" id="q3') == 2  # yes and no
        assert html.count('type="checkbox"') == 3
        assert 'name="answer.weight" type="text" inputmode="decimal"' in html
        assert '<textarea class="input textarea" id="q7" name="answer.notes"' in html
        assert "Date of birth (required)" in page.visible_text
        assert "Weight in pounds (optional) A number from 50 to 800." in page.visible_text
        assert ">Save draft</button>" in html and ">Send to the office</button>" in html


async def test_a_saved_draft_is_filled_in_again(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser, page = await _open(site, assignment)

        saved = await fill_in(
            browser, page, f"/forms/{assignment}", SAVE,
            **{**TYPED, "answer.born.month": "", "answer.born.day": "", "answer.born.year": "",
               "answer.notes": "Line one\r\nLine two"},
        )  # fmt: skip

        assert saved.url == f"/forms/{assignment}?notice=saved"
        assert "Your answers are saved." in saved.visible_text
        assert 'name="answer.nickname" type="text" value="Pat"' in saved.text
        assert 'name="answer.smoker" value="no" checked' in saved.text
        assert 'name="answer.symptoms" value="cough" checked' in saved.text
        assert 'name="answer.symptoms" value="ache">' in saved.text  # not ticked
        assert ">\nLine one\nLine two</textarea>" in saved.text
        assert _assignment(site, assignment)["status"] == "draft"


async def test_send_errors_are_shown_next_to_their_fields_with_the_typing_kept(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser, page = await _open(site, assignment)
        typed = {**TYPED, "answer.nickname": SCRIPT, "answer.smoker": "", "answer.weight": "9000"}

        refused = await fill_in(browser, page, f"/forms/{assignment}", SEND, **typed)

        assert refused.status == 422
        html = refused.text
        assert '<li><a href="#q3">Do you smoke? This question needs an answer</a></li>' in html
        assert '<li><a href="#q6">Weight in pounds: Enter a number from 50 to 800</a></li>' in html
        assert 'id="q6-error"' in html and 'aria-describedby="q6-hint q6-error"' in html
        assert 'value="9000" aria-describedby' in html
        assert f'value="{ESCAPED_SCRIPT}"' in html
        assert SCRIPT not in html
        assert 'name="answer.symptoms" value="fever" checked' in html
        assert _assignment(site, assignment)["status"] == "assigned"


async def test_draft_then_send_delivers_the_form(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser, page = await _open(site, assignment)
        draft = await fill_in(
            browser, page, f"/forms/{assignment}", SAVE, **{"answer.nickname": "Pat"}
        )

        done = await fill_in(browser, draft, f"/forms/{assignment}", SEND, **TYPED)

        assert done.url == "/forms?notice=sent"
        assert "Thank you - your form was sent." in done.visible_text
        assert _assignment(site, assignment) == {"status": "submitted", "answers": CHECKUP_SENT}


async def test_a_sent_form_shows_the_answers_read_only(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser, page = await _open(site, assignment)
        await fill_in(browser, page, f"/forms/{assignment}", SEND, **TYPED)

        sent = await browser.get(f"/forms/{assignment}")

        text = sent.visible_text
        assert not [f for f in sent.forms() if f.action == f"/forms/{assignment}"]
        assert "Date of birth January 1, 1970" in text
        assert "Do you smoke? No" in text
        assert "Favourite colour Green as grass" in text
        assert "Any of these? cough, fever" in text
        assert "Anything else? Not answered" in text


async def test_pressing_send_twice_sends_once_and_thanks_twice(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser, page = await _open(site, assignment)

        first = await fill_in(browser, page, f"/forms/{assignment}", SEND, **TYPED)
        second = await fill_in(browser, page, f"/forms/{assignment}", SEND, **TYPED)

        assert first.url == second.url == "/forms?notice=sent"
        assert _assignment(site, assignment)["answers"] == CHECKUP_SENT


async def test_sending_again_later_is_refused(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser, page = await _open(site, assignment)
        await fill_in(browser, page, f"/forms/{assignment}", SEND, **TYPED)

        # The same page kept in another tab, sent again with changed answers.
        again = await fill_in(
            browser, page, f"/forms/{assignment}", SEND,
            **{**TYPED, "answer.nickname": "Changed", "idem": "a-later-attempt-0000"},
        )  # fmt: skip

        assert again.status == 409
        assert "This form was already sent" in again.visible_text
        assert "please call +1 555 0100" in again.visible_text
        assert _assignment(site, assignment)["answers"] == CHECKUP_SENT


async def test_another_patients_form_is_not_found(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        theirs = assign_form(practice_db, 2, CHECKUP)
        mine = assign_form(practice_db, 1, INTAKE)
        browser, page = await _open(site, mine)
        csrf = page.form("/sign-out").fields["csrf"]

        pages = [
            await browser.get(f"/forms/{theirs}"),
            await browser.post(f"/forms/{theirs}", {"csrf": csrf, "action": "submit"}),
            await browser.get("/forms/99999"),  # nobody's: the same answer
            await browser.get("/forms/0"),
        ]

        for shown in pages:
            assert shown.status == 404
            assert "Page not found" in shown.visible_text
            assert "Check-up questions" not in shown.text
        assert _assignment(site, theirs) == {"status": "assigned", "answers": None}


async def test_looking_at_forms_changes_nothing(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser, _ = await _open(site, assignment)

        await browser.get("/forms")
        await browser.get(f"/forms/{assignment}?action=submit&answer.nickname=Pat")

        assert _assignment(site, assignment) == {"status": "assigned", "answers": None}
