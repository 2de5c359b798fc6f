"""Issue 11: "The intake form's date of birth hint ('like 1950-04-27') contradicts its native
date picker; use the same Month/Day/Year entry as activation." A form's date question is drawn
by the same macro as the activation page's date of birth, and its boxes reach the agent as
the one YYYY-MM-DD answer the agent validates."""

from __future__ import annotations

import json
import re
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.forms.seeding import CHECKUP, INTAKE, assign_form
from tests.proxy.portal import Page, portal
from tests.proxy.views.clinical_pages_fixtures import fill_in
from tests.support.database import query

BOXES = {"answer.born.month": "4", "answer.born.day": "27", "answer.born.year": "1950"}


def date_boxes(page: Page, prefix: str) -> dict[str, str]:
    fields = page.form(page.url.split("?")[0]).fields
    return {k: v for k, v in fields.items() if k.startswith(prefix)}


def stored_answers(practice_db: DatabaseSettings, assignment: int) -> dict[str, object]:
    (row,) = query(
        practice_db, "SELECT answers FROM portal_form_assignments WHERE id = %s", (assignment,)
    )
    answers: dict[str, object] = json.loads(row["answers"])
    return answers


async def test_the_intake_forms_date_of_birth_is_month_day_and_year_boxes(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, INTAKE)
        browser = await site.signed_in(1)
        page = await browser.get(f"/forms/{assignment}")
        activation_like = (
            '<label for="{id}">Month</label>',
            '<label for="{id}_day">Day</label>',
            '<label for="{id}_year">Year</label>',
        )

        assert 'type="date"' not in page.text
        assert not re.search(r"\b(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}\b", page.visible_text)
        assert re.search(r"<legend>Date of birth <span[^>]*>\(required\)", page.text)
        after_legend = page.text[page.text.index("<legend>Date of birth") :]
        box_id = re.findall(r'<label for="(q[0-9]+)">Month</label>', after_legend)[0]
        for label in activation_like:
            assert label.format(id=box_id) in page.text
        assert "Month, day and year. For example: 3 27 1950" in page.visible_text
        assert set(date_boxes(page, "answer.date_of_birth")) == {
            "answer.date_of_birth.month",
            "answer.date_of_birth.day",
            "answer.date_of_birth.year",
        }


async def test_the_boxes_are_saved_as_one_date_and_shown_again(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        assignment = assign_form(practice_db, 1, CHECKUP)
        browser = await site.signed_in(1)
        page = await browser.get(f"/forms/{assignment}")

        saved = await fill_in(browser, page, f"/forms/{assignment}", ("action", "save"), **BOXES)

        assert saved.url == f"/forms/{assignment}?notice=saved"
        assert stored_answers(practice_db, assignment)["born"] == "1950-04-27"
        assert date_boxes(saved, "answer.born") == {
            "answer.born.month": "04",
            "answer.born.day": "27",
            "answer.born.year": "1950",
        }

        wrong = {**BOXES, "answer.born.month": "2", "answer.born.day": "30"}
        refused = await fill_in(
            browser, saved, f"/forms/{assignment}", ("action", "submit"), **wrong
        )
        assert refused.status == 422
        assert "That date does not exist - check the month, day and year" in refused.visible_text
        assert date_boxes(refused, "answer.born")["answer.born.day"] == "30"  # kept as typed
