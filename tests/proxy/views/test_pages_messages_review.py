"""Two fixes from the security review, through the pages against the real agent:

- opening a conversation from another site's link (Sec-Fetch-Site cross-site or same-site)
  shows it but leaves it unread; from the portal itself, a typed URL or an old browser that
  sends no Sec-Fetch-Site, it is marked read as before;
- an attachment's Content-Disposition keeps its extension in the ASCII `filename` and carries
  the real name, any script, in `filename*` (RFC 6266 / RFC 5987), with nothing a header or a
  disk could trip over.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from agent.db.pool import DatabaseSettings
from proxy.views.messages import content_disposition
from tests.agent.messages.seeding import send_office_message
from tests.proxy.portal import Portal, portal
from tests.proxy.views.clinical_pages_fixtures import nav_messages_link

PDF = b"%PDF-1.4\n% a tiny test file\n"


def _read_at(site: Portal, thread: int) -> list[object]:
    rows = site.query(
        "SELECT read_by_patient_at FROM portal_messages WHERE thread_id = %s ORDER BY id",
        (thread,),
    )
    return [row["read_by_patient_at"] for row in rows]


def _filename_a_client_reads(disposition: str) -> str | None:
    """The name aiohttp's RFC 6266 reader saves the file as (filename* wins, as in browsers)."""
    kind, params = parse_content_disposition(disposition)
    assert kind == "attachment"
    return content_disposition_filename(params, "filename")


# -- marking read only on the patient's own navigation ------------------------------------------


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site"])
async def test_a_thread_opened_from_another_site_is_shown_but_stays_unread(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, fetch_site: str
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "Lab results", "All normal.")
        browser = await site.signed_in(1)

        page = await browser.get(f"/messages/{thread}", headers={"Sec-Fetch-Site": fetch_site})

        assert page.status == 200
        assert "All normal." in page.visible_text
        assert nav_messages_link(page) == "Messages (1 unread)"
        assert _read_at(site, thread) == [None]


@pytest.mark.parametrize("fetch_site", ["same-origin", "none"])
async def test_a_thread_the_patient_opened_themselves_is_marked_read(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, fetch_site: str
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "Lab results", "All normal.")
        browser = await site.signed_in(1)

        page = await browser.get(f"/messages/{thread}", headers={"Sec-Fetch-Site": fetch_site})

        assert nav_messages_link(page) == "Messages"
        assert _read_at(site, thread) != [None]


async def test_the_same_thread_opened_again_from_the_portal_is_then_marked_read(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        thread = send_office_message(practice_db, 1, "Lab results", "All normal.")
        browser = await site.signed_in(1)
        await browser.get(f"/messages/{thread}", headers={"Sec-Fetch-Site": "cross-site"})
        assert _read_at(site, thread) == [None]

        await browser.get(f"/messages/{thread}", headers={"Sec-Fetch-Site": "same-origin"})

        assert _read_at(site, thread) != [None]


# -- Content-Disposition ------------------------------------------------------------------------


def test_a_plain_ascii_name_is_sent_once_as_it_is() -> None:
    assert content_disposition("results-2026.pdf") == 'attachment; filename="results-2026.pdf"'


def test_a_name_with_no_ascii_letters_keeps_its_extension_and_its_real_name() -> None:
    header = content_disposition("検査結果.pdf")
    assert header == (
        'attachment; filename="attachment.pdf";'
        " filename*=UTF-8''%E6%A4%9C%E6%9F%BB%E7%B5%90%E6%9E%9C.pdf"
    )
    assert _filename_a_client_reads(header) == "検査結果.pdf"


def test_accents_are_dropped_only_from_the_ascii_fallback() -> None:
    header = content_disposition("Café résumé.docx")
    assert header.startswith('attachment; filename="Cafe resume.docx"; filename*=')
    assert _filename_a_client_reads(header) == "Café résumé.docx"


def test_quotes_line_breaks_and_paths_cannot_break_out_of_the_header() -> None:
    header = content_disposition('..\\..\\evil"\r\nSet-Cookie: x=1; "a.pdf')
    assert "\r" not in header and "\n" not in header
    assert header == (
        'attachment; filename="evil_Set-Cookie_ x_1_ _a.pdf";'
        " filename*=UTF-8''evil_Set-Cookie_%20x%3D1%3B%20_a.pdf"
    )
    assert _filename_a_client_reads(header) == "evil_Set-Cookie_ x=1; _a.pdf"


def test_a_bidi_override_cannot_disguise_the_extension() -> None:
    # U+202E would show "report\u202efdp.exe" as "reportexe.pdf".
    header = content_disposition("report\u202efdp.exe")
    assert _filename_a_client_reads(header) == "report_fdp.exe"
    assert 'filename="report_fdp.exe"' in header


@pytest.mark.parametrize("name", [None, "", "...", "\r\n", 42])
def test_a_name_with_nothing_usable_left_is_attachment(name: object) -> None:
    assert content_disposition(name) == 'attachment; filename="attachment"'


async def test_a_japanese_attachment_name_downloads_with_its_name_and_extension(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        send_office_message(practice_db, 1, "Results", "Attached.", [("検査結果.pdf", PDF)])
        (row,) = site.query("SELECT id FROM portal_message_attachments")
        browser = await site.signed_in(1)

        download = await browser.get(f"/messages/attachments/{row['id']}")

        assert download.status == 200
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="attachment.pdf"; filename*=UTF-8')
        assert _filename_a_client_reads(disposition) == "検査結果.pdf"


async def test_a_stored_name_with_quotes_and_crlf_gives_one_clean_header(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        send_office_message(practice_db, 1, "Results", "Attached.", [("x.pdf", PDF)])
        (row,) = site.query("SELECT id FROM portal_message_attachments")
        # A row changed behind the agent's back, as a compromised practice system might.
        site.office.execute(
            "UPDATE portal_message_attachments SET filename = %s WHERE id = %s",
            ('a"\r\nSet-Cookie: stolen=1\r\n\r\n.pdf', row["id"]),
        )
        browser = await site.signed_in(1)

        download = await browser.get(f"/messages/attachments/{row['id']}")

        assert download.status == 200
        assert "stolen" not in browser.cookies
        assert download.headers.getall("Content-Disposition") == [
            'attachment; filename="a_Set-Cookie_ stolen_1_.pdf";'
            " filename*=UTF-8''a_Set-Cookie_%20stolen%3D1_.pdf"
        ]
        assert download.text == PDF.decode()
