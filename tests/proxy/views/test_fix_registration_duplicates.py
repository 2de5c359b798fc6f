"""Issue 11, item 2 (the browser's side): self-registration creates duplicate, empty charts.

> someone who matches an existing chart must not get a second one (offer activation of the
> existing one by email, without telling the browser whether a chart matched)

The register page answers byte for byte the same whether the details match a chart with this
email, a chart with another email, or nobody; only the email differs. A verification link
that can no longer be completed safely says to call the office.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import PASSWORD, ZIP, email_of, link_token
from tests.proxy.portal import Portal, portal
from tests.proxy.views.test_pages_access import dob_fields

SELF_REGISTRATION = {"self_registration": True}


async def register(site: Portal, first: str, last: str, email: str) -> tuple[int, str]:
    browser = site.browser()
    page = await browser.get("/register")
    page = await browser.submit(
        page, "/register", first_name=first, last_name=last, **dob_fields(), zip=ZIP,
        email=email, password=PASSWORD, password_again=PASSWORD,
    )  # fmt: skip
    return page.status, page.visible_text


async def test_the_page_is_the_same_whether_or_not_a_chart_matched(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access=SELF_REGISTRATION) as site:
        patients = site.query("SELECT COUNT(*) AS n FROM patients")
        answers = [
            await register(site, "Pat4", "Example", email_of(4)),  # Pat4 and Pat4's address
            await register(site, "PAT5", "example", "someone@example.net"),  # Pat5, other address
            await register(site, "Nora", "Quill", "nora@example.net"),  # nobody on file
        ]
        assert answers[0][0] == 200 and "Check your email" in answers[0][1]
        assert answers[1:] == answers[:1] * 2
        assert site.query("SELECT COUNT(*) AS n FROM patients") == patients

        mails = {tuple(m.rcpt_tos): m for m in await site.office.deliver()}
        assert set(mails) == {(email_of(4),), ("someone@example.net",), ("nora@example.net",)}
        link_token(mails[(email_of(4),)], "/verify")  # activates Pat4's own chart
        assert "http" not in mails[("someone@example.net",)].part("text/plain")  # "call us"


async def test_a_link_that_cannot_be_completed_says_to_call_the_office(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access=SELF_REGISTRATION) as site:
        await register(site, "Nora", "Quill", "nora@example.net")
        token = link_token(await site.office.one_mail("nora@example.net"), "/verify")
        # Meanwhile the office registers Nora with another address: the link must not make a
        # second chart, nor give her address the chart.
        site.office.execute(
            "INSERT INTO patients (first_name, last_name, date_of_birth, email, home_zip)"
            " VALUES ('Nora', 'Quill', '1970-01-01', 'nora.q@example.org', %s)",
            (ZIP,),
        )
        browser = site.browser()
        page = await browser.get(f"/verify?token={token}")
        done = await browser.submit(page, "/verify")
        assert done.status == 403
        assert "Please call +1 555 0100" in done.visible_text
        assert site.query("SELECT COUNT(*) AS n FROM portal_accounts") == [{"n": 0}]


async def test_an_impossible_birth_date_is_refused_on_its_field(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access=SELF_REGISTRATION) as site:
        browser = site.browser()
        page = await browser.get("/register")
        page = await browser.submit(
            page, "/register", first_name="Nora", last_name="Quill", **dob_fields("2031-05-06"),
            zip=ZIP, email="nora@example.net", password=PASSWORD, password_again=PASSWORD,
        )  # fmt: skip
        assert page.status == 422
        assert "That date is in the future. Please check the year" in page.visible_text
        assert await site.office.deliver() == []
