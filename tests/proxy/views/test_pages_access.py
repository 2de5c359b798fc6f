"""The signed-out pages and the account page, against the real agent and its real email:
activate from an invite, register and verify, forgot and reset, sign in and out, and changing
the password or the email address. GET on a link never uses the link up."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import DOB, OTHER_PASSWORD, PASSWORD, ZIP, email_of, link_token
from tests.proxy.portal import Browser, Page, Portal, portal

ENABLED = {"activate_without_confirmation": True}


def dob_fields(iso: str = DOB) -> dict[str, str]:
    year, month, day = iso.split("-")
    return {"dob_month": str(int(month)), "dob_day": str(int(day)), "dob_year": year}


async def sign_in(site: Portal, browser: Browser, patient: int, password: str) -> Page:
    page = await browser.get("/sign-in")
    return await browser.submit(page, "/sign-in", login=email_of(patient), password=password)


async def test_activate_from_the_invite_then_sign_in(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, access=ENABLED) as site:
        await site.office.staff.invite(3)
        token = link_token(await site.office.one_mail(email_of(3)), "/activate")
        browser = site.browser()

        page = await browser.get(f"/activate?token={token}")
        assert page.status == 200 and "Set up your account" in page.visible_text
        form = page.form("/activate")
        assert form.fields["token"] == token
        assert (
            'autocomplete="bday-year"' in page.text and 'autocomplete="new-password"' in page.text
        )

        wrong = await browser.submit(
            page, "/activate", **dob_fields("1971-01-01"), zip=ZIP, password=PASSWORD,
            password_again=PASSWORD,
        )  # fmt: skip
        assert wrong.status == 403
        assert "date of birth or zip code does not match" in wrong.visible_text

        mismatch = await browser.submit(
            page, "/activate", **dob_fields(), zip=ZIP, password=PASSWORD, password_again="x"
        )
        assert mismatch.status == 422
        assert "The two passwords are not the same" in mismatch.visible_text

        weak = await browser.submit(
            page, "/activate", **dob_fields(), zip=ZIP, password="short", password_again="short"
        )
        assert weak.status == 422
        assert "Use at least 12 characters" in weak.visible_text
        assert 'id="password-error"' in weak.text  # next to the password box

        done = await browser.submit(
            page, "/activate", **dob_fields(), zip=ZIP, password=PASSWORD, password_again=PASSWORD
        )
        assert done.url == "/sign-in?notice=activated"
        assert "Your account is ready" in done.visible_text

        again = await browser.submit(
            page, "/activate", **dob_fields(), zip=ZIP, password=PASSWORD, password_again=PASSWORD
        )
        assert again.status == 404 and "This link does not work" in again.visible_text

        signed_in = await sign_in(site, browser, 3, PASSWORD)
        assert signed_in.url == "/appointments"
        assert "You have no upcoming appointments." in signed_in.visible_text


async def test_wrong_password_is_one_friendly_message(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        await site.office.set_password(1, PASSWORD)
        browser = site.browser()
        wrong = await sign_in(site, browser, 1, OTHER_PASSWORD)
        unknown = await browser.submit(
            await browser.get("/sign-in"), "/sign-in", login="nobody@example.org", password="x"
        )
        assert wrong.status == unknown.status == 401
        for page in (wrong, unknown):  # the same words: nothing tells which accounts exist
            assert "The sign-in details are not right" in page.visible_text
            assert "Forgot your password?" in page.visible_text
        assert "__Host-portico" not in browser.cookies
        empty = await browser.submit(await browser.get("/sign-in"), "/sign-in")
        assert empty.status == 422
        assert "Enter your email address or username." in empty.visible_text


async def test_sign_out_ends_the_session(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        token = browser.cookies["__Host-portico"]
        page = await browser.submit(browser.history[-1], "/sign-out")
        assert page.url == "/sign-in?notice=signed_out"
        assert "You have signed out." in page.visible_text
        assert "__Host-portico" not in browser.cookies

        # The old token is dead at the agent too, not just forgotten by this browser.
        replay = site.browser()
        replay.cookies["__Host-portico"] = token
        page = await replay.get("/appointments")
        assert page.url == "/sign-in?notice=expired"


async def test_register_is_refused_politely_when_the_office_does_not_allow_it(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        page = await browser.get("/register")  # said at once: no form to fill in first
        assert page.status == 403
        assert "does not take sign-ups online. Please call +1 555 0100." in page.visible_text
        csrf = (await browser.get("/sign-in")).form("/sign-in").fields["csrf"]
        page = await browser.post(
            "/register", {"csrf": csrf, "first_name": "Pat5", "last_name": "Example",
            **dob_fields(), "zip": ZIP, "email": email_of(5), "password": PASSWORD,
            "password_again": PASSWORD},
        )  # fmt: skip
        assert page.status == 403
        assert "does not take sign-ups online. Please call +1 555 0100." in page.visible_text


async def test_register_then_verify_from_the_email(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    access = {"self_registration": True}
    async with portal(practice_db, link_keys, tmp_path, access=access) as site:
        browser = site.browser()
        page = await browser.get("/register")
        page = await browser.submit(
            page, "/register", first_name="Pat5", last_name="Example", **dob_fields(), zip=ZIP,
            email=email_of(5), password=PASSWORD, password_again=PASSWORD,
        )  # fmt: skip
        assert page.status == 200 and "Check your email" in page.visible_text
        token = link_token(await site.office.one_mail(email_of(5)), "/verify")

        page = await browser.get(f"/verify?token={token}")
        assert "Confirm my email address" in page.text
        page = await browser.get(f"/verify?token={token}")  # a mail scanner, a second click
        assert page.status == 200  # still unused: GET changes nothing

        done = await browser.submit(page, "/verify")
        assert done.url == "/sign-in?notice=verified"
        assert (await sign_in(site, browser, 5, PASSWORD)).url == "/appointments"


async def test_forgot_and_reset_password(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        signed_in = await site.signed_in(1)
        browser = site.browser()
        page = await browser.get("/forgot")
        known = await browser.submit(page, "/forgot", login=email_of(1))
        unknown = await browser.submit(page, "/forgot", login="nobody@example.org")
        assert known.status == unknown.status == 200
        assert known.visible_text == unknown.visible_text  # tells nobody who has an account
        token = link_token(await site.office.one_mail(email_of(1)), "/reset")

        page = await browser.get(f"/reset?token={token}")
        page = await browser.get(f"/reset?token={token}")  # GET twice: still usable
        mismatch = await browser.submit(
            page, "/reset", password=OTHER_PASSWORD, password_again=PASSWORD
        )
        assert mismatch.status == 422
        done = await browser.submit(
            page, "/reset", password=OTHER_PASSWORD, password_again=OTHER_PASSWORD
        )
        assert done.url == "/sign-in?notice=reset"
        assert "Your password is changed" in done.visible_text

        # Every session of the account ended, including the one in the other browser.
        assert (await signed_in.get("/appointments")).url == "/sign-in?notice=expired"
        assert (await sign_in(site, browser, 1, OTHER_PASSWORD)).url == "/appointments"


async def test_bad_links_say_ask_for_a_new_one(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        for path in ("/activate", "/verify", "/reset", "/confirm-email"):
            for query in ("", "?token=", "?token=%3Cscript%3E", "?token=" + "a" * 200):
                page = await browser.get(path + query)
                assert page.status == 404, (path, query)
                assert "ask the office to send you a new one" in page.visible_text
                assert "<script>" not in page.text
            page = await browser.get(f"{path}?token={'b' * 43}")
            if path == "/reset":  # the agent is asked at once whether a reset link is usable
                assert page.status == 404
                assert "already used or has expired" in page.visible_text
                continue
            assert page.status == 200  # looks like a token; only the POST can tell
            form = page.form(path)
            refused = await browser.post(path, {**form.fields, "password": PASSWORD})
            assert refused.status in (404, 422)


async def test_change_password_and_email_from_the_account_page(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        elsewhere = await site.signed_in(1)
        page = await browser.get("/account")
        assert "p***@example.org" in page.visible_text
        assert email_of(1) not in page.text

        wrong = await browser.submit(
            page, "/account/password", current_password=OTHER_PASSWORD,
            new_password=OTHER_PASSWORD, new_password_again=OTHER_PASSWORD,
        )  # fmt: skip
        assert wrong.status == 422 and "That is not your current password." in wrong.visible_text

        old_cookie = browser.cookies["__Host-portico"]
        done = await browser.submit(
            page, "/account/password", current_password=PASSWORD,
            new_password=OTHER_PASSWORD, new_password_again=OTHER_PASSWORD,
        )  # fmt: skip
        assert done.url == "/account?notice=password_changed"
        assert browser.cookies["__Host-portico"] != old_cookie  # the agent's new session
        assert (await elsewhere.get("/appointments")).url == "/sign-in?notice=expired"

        sent = await browser.submit(
            done, "/account/email", new_email="new1@example.org", email_password=OTHER_PASSWORD
        )
        assert sent.url == "/account?notice=email_sent"
        mails = await site.office.deliver()
        [confirm_mail] = [m for m in mails if m.rcpt_tos == ["new1@example.org"]]
        token = link_token(confirm_mail, "/confirm-email")

        page = await browser.get(f"/confirm-email?token={token}")
        assert site.query("SELECT email FROM portal_accounts WHERE patient_id = 1")[0][
            "email"
        ] == email_of(1)  # GET changed nothing
        changed = await browser.submit(page, "/confirm-email")
        assert changed.url == "/sign-in?notice=email_changed"
        assert "__Host-portico" not in browser.cookies
        row = site.query("SELECT email FROM portal_accounts WHERE patient_id = 1")[0]
        assert row["email"] == "new1@example.org"
