"""Secure messages through the pages, against the real agent: the inbox, a conversation, replying,
attachments, the header's unread count, and another patient's messages staying out of reach."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.messages.seeding import send_office_message
from tests.proxy.portal import Portal, portal
from tests.proxy.views.clinical_pages_fixtures import ESCAPED_SCRIPT, SCRIPT, nav_messages_link
from tests.support.logs import LogCapture
from tests.support.practice import NOW

PDF = b"%PDF-1.4\n% a tiny test file\n"


def _messages(site: Portal, thread: int) -> list[dict[str, object]]:
    return site.query(
        "SELECT sender, body, read_by_patient_at FROM portal_messages WHERE thread_id = %s"
        " ORDER BY id",
        (thread,),
    )


def _attachment_id(site: Portal, thread: int) -> int:
    (row,) = site.query(
        "SELECT a.id FROM portal_message_attachments a JOIN portal_messages m"
        " ON m.id = a.message_id WHERE m.thread_id = %s",
        (thread,),
    )
    return int(row["id"])


async def test_inbox_lists_threads_newest_first_with_unread_ones_marked_in_words(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        older = send_office_message(
            practice_db, 1, "Flu shots", "We have flu shots.", now=NOW - timedelta(days=2)
        )
        send_office_message(practice_db, 1, "Lab results", "All normal.", now=NOW)
        browser = await site.signed_in(1)
        await browser.get(f"/messages/{older}")  # read; "Lab results" stays unread

        page = await browser.get("/messages")

        text = page.visible_text
        assert page.status == 200
        assert text.index("Lab results") < text.index("Flu shots")
        assert "New Lab results 1 unread" in text
        assert "New Flu shots" not in text
        assert "Saturday, November 21, 2026 at 7:00 AM" in text  # Flu shots, New York time


async def test_thread_shows_messages_oldest_first_with_author_and_local_time(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(
            practice_db, 1, "Your visit", "First note.", author="Dr. Adams",
            now=NOW - timedelta(hours=3),
        )  # fmt: skip
        send_office_message(practice_db, 1, "", "Second note.", thread_id=thread, now=NOW)
        browser = await site.signed_in(1)

        page = await browser.get(f"/messages/{thread}")

        text = page.visible_text
        assert page.status == 200
        assert "Dr. Adams Monday, November 23, 2026 at 4:00 AM First note." in text
        assert "Example Family Clinic Monday, November 23, 2026 at 7:00 AM Second note." in text
        assert text.index("First note.") < text.index("Second note.")


async def test_subject_and_body_are_escaped_text_with_line_breaks_kept(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(
            practice_db, 1, f"Re {SCRIPT}", f"Line one\n{SCRIPT}\nLine three"
        )
        browser = await site.signed_in(1)

        inbox = await browser.get("/messages")
        page = await browser.get(f"/messages/{thread}")

        for shown in (inbox, page):
            assert SCRIPT not in shown.text
            assert f"Re {ESCAPED_SCRIPT}" in shown.text
        assert f'class="message-body">Line one\n{ESCAPED_SCRIPT}\nLine three</div>' in page.text


async def test_reply_is_stored_and_the_thread_says_it_was_sent(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "Your visit", "How are you feeling?")
        browser = await site.signed_in(1)
        page = await browser.get(f"/messages/{thread}")

        done = await browser.submit(
            page, f"/messages/{thread}/reply", body="  Much better,\r\nthank you.  "
        )

        assert done.url == f"/messages/{thread}?notice=sent"
        assert "Your reply was sent." in done.visible_text
        assert "You Monday, November 23, 2026 at 7:00 AM Much better, thank you." in (
            done.visible_text
        )
        assert [(m["sender"], m["body"]) for m in _messages(site, thread)] == [
            ("office", "How are you feeling?"),
            ("patient", "Much better,\nthank you."),
        ]


async def test_empty_reply_is_refused_next_to_the_box(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "Your visit", "How are you feeling?")
        browser = await site.signed_in(1)
        page = await browser.get(f"/messages/{thread}")

        refused = await browser.submit(page, f"/messages/{thread}/reply", body="   ")

        assert refused.status == 422
        assert '<a href="#body">Write your message before you send it.</a>' in refused.text
        assert 'id="body-error"' in refused.text
        assert 'aria-describedby="body-hint body-error"' in refused.text
        assert len(_messages(site, thread)) == 1


async def test_too_long_reply_keeps_what_was_typed(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "Your visit", "How are you feeling?")
        browser = await site.signed_in(1)
        page = await browser.get(f"/messages/{thread}")
        typed = "word " * 1001  # 5,004 characters after trimming

        refused = await browser.submit(page, f"/messages/{thread}/reply", body=typed)

        assert refused.status == 422
        assert "Your message is too long: it has 5,004 characters" in refused.visible_text
        assert f">\n{typed}</textarea>" in refused.text
        assert len(_messages(site, thread)) == 1


async def test_pressing_send_twice_sends_one_reply(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "Your visit", "How are you feeling?")
        browser = await site.signed_in(1)
        page = await browser.get(f"/messages/{thread}")

        first = await browser.submit(page, f"/messages/{thread}/reply", body="Better.")
        second = await browser.submit(page, f"/messages/{thread}/reply", body="Better.")

        assert first.url == second.url == f"/messages/{thread}?notice=sent"
        assert [m["sender"] for m in _messages(site, thread)] == ["office", "patient"]


async def test_closed_thread_offers_no_reply_box(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(
            practice_db, 1, "Office closed Friday", "Closed.", replies_allowed=False
        )
        browser = await site.signed_in(1)

        page = await browser.get(f"/messages/{thread}")

        assert "This conversation is closed to replies." in page.visible_text
        assert not [f for f in page.forms() if f.action.endswith("/reply")]


async def test_attachment_downloads_as_a_file_with_a_safe_name(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(
            practice_db, 1, "Your results", "Attached.", [('Résumé "final" <v2>.pdf', PDF)]
        )
        attachment = _attachment_id(site, thread)
        browser = await site.signed_in(1)
        page = await browser.get(f"/messages/{thread}")
        assert page.links(rf"^/messages/attachments/{attachment}$")
        assert "Download Résumé &#34;final&#34; &lt;v2&gt;.pdf" in page.text

        download = await browser.get(f"/messages/attachments/{attachment}")

        assert download.status == 200
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Disposition"] == (
            'attachment; filename="Resume _final_ _v2_.pdf";'
            " filename*=UTF-8''R%C3%A9sum%C3%A9%20_final_%20_v2_.pdf"
        )
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.text == PDF.decode()


async def test_attachment_of_an_unexpected_type_is_sent_as_plain_bytes(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(
            practice_db, 1, "Note", "Attached.", [("note.txt", SCRIPT.encode())]
        )
        attachment = _attachment_id(site, thread)
        # A row changed behind the agent's back: the proxy still never serves it as a page.
        site.office.execute(
            "UPDATE portal_message_attachments SET content_type = 'text/html', filename = %s"
            " WHERE id = %s",
            ("../../.index.html", attachment),
        )
        browser = await site.signed_in(1)

        download = await browser.get(f"/messages/attachments/{attachment}")

        assert download.headers["Content-Type"] == "application/octet-stream"
        assert download.headers["Content-Disposition"] == 'attachment; filename="index.html"'


async def test_another_patients_thread_and_attachment_are_not_found(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        theirs = send_office_message(
            practice_db, 2, "Private subject", "Private body.", [("x.pdf", PDF)]
        )
        attachment = _attachment_id(site, theirs)
        mine = send_office_message(practice_db, 1, "Mine", "Hello.")
        browser = await site.signed_in(1)
        csrf = (await browser.get(f"/messages/{mine}")).form("/sign-out").fields["csrf"]

        pages = [
            await browser.get(f"/messages/{theirs}"),
            await browser.get(f"/messages/attachments/{attachment}"),
            await browser.post(f"/messages/{theirs}/reply", {"csrf": csrf, "body": "Hi"}),
            await browser.get("/messages/99999"),  # nobody's: the same answer
        ]

        for page in pages:
            assert page.status == 404
            assert "Page not found" in page.visible_text
            assert "Private" not in page.text and "PDF" not in page.text
        assert [(m["sender"], m["read_by_patient_at"]) for m in _messages(site, theirs)] == [
            ("office", None)
        ]


async def test_ids_that_cannot_be_ids_get_the_not_found_page(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        for url in ("/messages/0", "/messages/2147483648", "/messages/attachments/x1"):
            page = await browser.get(url)
            assert page.status == 404 and "Page not found" in page.visible_text, url


async def test_unread_count_in_the_header_drops_after_opening_the_thread(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        first = send_office_message(practice_db, 1, "One", "First.")
        send_office_message(practice_db, 1, "Two", "Second.")
        browser = await site.signed_in(1)
        assert nav_messages_link(browser.history[-1]) == "Messages (2 unread)"
        assert nav_messages_link(await browser.get("/records")) == "Messages (2 unread)"

        opened = await browser.get(f"/messages/{first}")

        assert nav_messages_link(opened) == "Messages (1 unread)"
        assert nav_messages_link(await browser.get("/appointments")) == "Messages (1 unread)"


async def test_looking_at_the_inbox_marks_nothing_read(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "One", "First.")
        browser = await site.signed_in(1)

        await browser.get("/messages")
        await browser.get("/appointments")
        not_allowed = await browser.get(f"/messages/{thread}/reply")

        assert not_allowed.status == 405
        assert [(m["sender"], m["read_by_patient_at"]) for m in _messages(site, thread)] == [
            ("office", None)
        ]


async def test_pages_still_show_when_the_unread_count_cannot_be_had(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        send_office_message(practice_db, 1, "One", "First.")
        browser = await site.signed_in(1)
        assert nav_messages_link(browser.history[-1]) == "Messages (1 unread)"
        # A fault only the count meets: its table is gone, the appointments' tables are not.
        site.office.execute("RENAME TABLE portal_messages TO portal_messages_away")

        page = await browser.get("/appointments")

        assert page.status == 200
        assert "My appointments" in page.visible_text
        assert nav_messages_link(page) == "Messages"


async def test_proxy_logs_route_names_and_never_message_text(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(
            practice_db, 1, "CanarySubject", "CanaryBody", [("CanaryFile.pdf", PDF)]
        )
        browser = await site.signed_in(1)
        page = await browser.get(f"/messages/{thread}")
        await browser.get(f"/messages/attachments/{_attachment_id(site, thread)}")
        await browser.submit(page, f"/messages/{thread}/reply", body="")
        await browser.submit(page, f"/messages/{thread}/reply", body="CanaryReply")

        routes = [(r["method"], r["route"]) for r in logs.records("http.request")]
        assert ("GET", "message_thread") in routes
        assert ("GET", "message_attachment") in routes
        assert ("POST", "message_reply") in routes
        proxy_lines = [
            r for r in logs.records() if str(r.get("logger", "")).startswith("portico.proxy")
        ]
        everything = "\n".join(str(r) for r in proxy_lines)
        for canary in ("CanarySubject", "CanaryBody", "CanaryFile", "CanaryReply"):
            assert canary not in everything
        assert f"/messages/{thread}" not in everything
