"""Issue 11: "Patients cannot start a conversation (only reply), though the welcome message
invites them to "send us a message". Let them write to the office (subject, text, optional
attachment within limits), with the office's rules (which topics, on/off) in the YAML."

The pages' half, against the real agent: a "New message" button when the office takes them,
a CSRF-protected multipart form that works without JavaScript with errors tied to their
fields, the file read in memory and stored as sent, the office's switch honoured, and the
thread reachable by its patient only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web_request
import pytest

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import Browser, Page, portal
from tests.proxy.views.clinical_pages_fixtures import form_pairs

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# Over aiohttp's 1 MiB in-memory spool (its request.post() would write this to disk).
BIG_PDF = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024)


def multipart(
    page: Page, file: tuple[str, bytes, str] | None = None, **typed: str
) -> aiohttp.FormData:
    """The new-message form as a browser sends it: its hidden fields, what was typed, and a
    file part (empty when no file is chosen, as browsers send it)."""
    data = aiohttp.FormData()
    for name, value in form_pairs(page, "/messages/new"):
        if name not in typed and name != "attachment":
            data.add_field(name, value)
    for name, value in typed.items():
        data.add_field(name, value)
    name, content, content_type = file or ("", b"", "application/octet-stream")
    data.add_field("attachment", content, filename=name, content_type=content_type)
    return data


async def send(browser: Browser, page: Page, **kwargs: Any) -> Page:
    return await browser.request("POST", "/messages/new", data=multipart(page, **kwargs))  # type: ignore[arg-type]


def threads(site: Any) -> list[dict[str, Any]]:
    return site.query(
        "SELECT id, patient_id, subject, topic, created_by FROM portal_message_threads"
    )


async def test_a_patient_writes_to_the_office_with_a_file(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        inbox = await browser.get("/messages")
        assert "/messages/new" in inbox.links(r"^/messages/new$")
        assert 'To write to Example Family Clinic, choose "New message"' in inbox.visible_text

        form = await browser.get("/messages/new")
        assert form.status == 200
        assert 'enctype="multipart/form-data"' in form.text
        for topic in ("Appointments", "Prescriptions", "Billing", "Other"):
            assert f'value="{topic}"' in form.text
        assert "<legend>What is your message about?</legend>" in form.text
        assert '<label for="subject">Subject</label>' in form.text
        assert '<label for="attachment">Attach a file' in form.text

        shown = await send(
            browser,
            form,
            file=("rash.png", PNG, "image/png"),
            topic="Prescriptions",
            subject="Refill please",
            body="Running low on lisinopril.\r\nThanks!",
        )

        (thread,) = threads(site)
        assert thread == {
            "id": thread["id"],
            "patient_id": 1,
            "subject": "Refill please",
            "topic": "Prescriptions",
            "created_by": "patient:1",
        }
        assert shown.url == f"/messages/{thread['id']}?notice=started"
        text = shown.visible_text
        assert "Your message was sent." in text
        assert "Refill please Topic: Prescriptions" in text
        assert "Running low on lisinopril.\nThanks!" in shown.text
        assert "Download rash.png" in text
        (stored,) = site.query("SELECT data FROM portal_message_attachments")
        assert stored["data"] == PNG


async def test_a_file_over_a_mebibyte_is_passed_on_whole_without_touching_the_disk(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_disk(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the proxy stores nothing about patients, not even in a temp file")

    # aiohttp's request.post() spools a file over 1 MiB through this (to disk past 1 MiB).
    monkeypatch.setattr(aiohttp.web_request, "SpooledTemporaryFile", no_disk)
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        form = await browser.get("/messages/new")
        shown = await send(
            browser,
            form,
            file=("scan.pdf", BIG_PDF, "application/pdf"),
            topic="Billing",
            subject="My bill",
            body="Scan attached.",
        )
        assert shown.status == 200 and "Your message was sent." in shown.visible_text
        (stored,) = site.query("SELECT size, data FROM portal_message_attachments")
        assert (stored["size"], stored["data"]) == (len(BIG_PDF), BIG_PDF)


async def test_mistakes_are_shown_next_to_their_fields_and_what_was_typed_is_kept(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        form = await browser.get("/messages/new")

        page = await send(browser, form, subject="", body="Kept <b>as typed</b>")

        assert page.status == 422
        assert threads(site) == []
        html = page.text
        assert "There is a problem" in page.visible_text
        assert 'id="topic-error"' in html and 'aria-describedby="topic-error"' in html
        assert '<a href="#topic">Choose what your message is about.</a>' in html
        assert 'id="subject-error"' in html
        assert re.search(r'id="subject"[^>]*aria-describedby="subject-hint subject-error"', html)
        assert "Kept &lt;b&gt;as typed&lt;/b&gt;</textarea>" in html

        wrong = await send(
            browser,
            await browser.get("/messages/new"),
            file=("scan.pdf", PNG, "application/pdf"),
            topic="Other",
            subject="Scan",
            body="Here it is.",
        )
        assert wrong.status == 422
        assert threads(site) == []
        assert re.search(
            r'id="attachment"[^>]*aria-describedby="attachment-hint attachment-error"', wrong.text
        )
        assert "We could not accept this file." in wrong.visible_text
        assert "Please choose your file again" in wrong.visible_text
        assert "application/pdf" not in wrong.visible_text  # no internal names
        assert 'value="Other" checked' in wrong.text


async def test_a_form_without_its_csrf_token_or_origin_is_refused(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        form = await browser.get("/messages/new")
        fields = {"topic": "Other", "subject": "Hi", "body": "Hello", "csrf": "forged"}
        forged = await send(browser, form, **fields)
        data = multipart(form, topic="Other", subject="Hi", body="Hello")
        elsewhere = await browser.request(
            "POST",
            "/messages/new",
            data=data,
            headers={"Origin": "https://evil.example"},  # type: ignore[arg-type]
        )
        assert (forged.status, elsewhere.status) == (403, 403)
        assert threads(site) == []


async def test_when_the_office_does_not_take_them_there_is_no_button_and_no_way_in(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(
        practice_db, link_keys, tmp_path, messages={"patients_can_start": False}
    ) as site:
        browser = await site.signed_in(1)
        inbox = await browser.get("/messages")
        assert inbox.links(r"^/messages/new$") == []
        assert "New message" not in inbox.visible_text

        page = await browser.get("/messages/new")
        assert page.status == 403
        assert "does not take new messages through the portal" in page.visible_text
        assert "+1 555 0100" in page.visible_text

        csrf = dict(form_pairs(inbox, "/sign-out"))["csrf"]
        data = aiohttp.FormData({"csrf": csrf, "topic": "Other", "subject": "Hi", "body": "Hello"})
        data.add_field("attachment", b"", filename="")
        refused = await browser.request("POST", "/messages/new", data=data)  # type: ignore[arg-type]
        assert refused.status == 403
        assert threads(site) == []


async def test_another_patient_gets_the_same_page_as_for_a_missing_thread(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        a = await site.signed_in(1)
        await send(
            a,
            await a.get("/messages/new"),
            file=("rash.png", PNG, "image/png"),
            topic="Other",
            subject="Private question",
            body="Only for my doctor.",
        )
        (thread,) = threads(site)
        (file,) = site.query("SELECT id FROM portal_message_attachments")
        b = await site.signed_in(2)

        theirs = await b.get(f"/messages/{thread['id']}")
        missing = await b.get("/messages/999999")
        assert (theirs.status, theirs.text) == (missing.status, missing.text)
        assert theirs.status == 404
        their_file = await b.get(f"/messages/attachments/{file['id']}")
        no_file = await b.get("/messages/attachments/999999")
        assert (their_file.status, their_file.text) == (no_file.status, no_file.text)
        listing = await b.get("/messages")
        assert "Private question" not in listing.text


async def test_over_the_daily_cap_the_form_says_to_wait_or_call(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        session = await site.office.signed_in_patient(1)
        for number in range(10):
            params = {"topic": "Other", "subject": f"Question {number}", "body": "Hello"}
            await site.office.call("messages.start", session, **params)
        browser = await site.signed_in(1)
        form = await browser.get("/messages/new")

        page = await send(browser, form, topic="Other", subject="One more", body="Hello again")

        assert page.status == 422
        assert "You have started as many conversations today as the portal takes." in (
            page.visible_text
        )
        assert "call +1 555 0100" in page.visible_text
        assert len(threads(site)) == 10
