"""The records page and the FHIR download, against the real agent: every section in words and
accessible tables, empty states, escaping, only the patient's own chart, download headers."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from agent.db.pool import DatabaseSettings
from proxy.views.records import FALLBACK_FILENAME, download_filename
from tests.proxy.portal import portal
from tests.proxy.views.clinical_pages_fixtures import (
    ESCAPED_SCRIPT,
    SCRIPT,
    audit_actions,
    plant_record,
)


async def test_records_page_shows_every_section_in_words(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        plant_record(site, 1)
        browser = await site.signed_in(1)

        page = await browser.get("/records")

        text = page.visible_text
        assert page.status == 200
        assert "Name Pat1 Example Born January 1, 1970" in text
        assert "Penicillin Hives Severe Active February 3, 2020" in text
        assert (
            "Lisinopril 10 mg tablet 1 tablet by mouth once daily Active January 5, 2024 Dr. Adams"
            in text
        )
        assert "High blood pressure Active June 1, 2019 No" in text
        assert "Thursday, October 1, 2026 at 10:00 AM Reason Check-up With Dr. Adams" in text
        assert "Glucose 6.1 mmol/L 3.9-5.5 High October 1, 2026" in text
        for heading in ("Allergies", "Medications", "Problems", "Visit summaries", "Lab results"):
            assert f">{heading}</h2>" in page.text


async def test_record_tables_have_captions_and_header_scopes(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        plant_record(site, 1)
        browser = await site.signed_in(1)

        page = await browser.get("/records")

        html = page.text
        assert html.count("<table") == html.count("<caption") == 4
        assert '<th scope="col">Reaction</th>' in html
        assert '<th scope="row">Penicillin' in html
        # On a phone each cell is shown with its column's name (portico.css reads data-label).
        assert '<td data-label="Reaction">Hives</td>' in html


async def test_an_empty_record_says_so_in_words(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(3)

        page = await browser.get("/records")

        text = page.visible_text
        assert "<table" not in page.text
        assert "The office has no allergies on file for you." in text
        assert "The office has no medications on file for you." in text
        assert "The office has no health problems on file for you." in text
        assert "There are no visit summaries yet." in text
        assert "There are no lab results yet." in text


async def test_what_the_office_typed_is_shown_as_text(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        plant_record(site, 1, label=SCRIPT)
        browser = await site.signed_in(1)

        page = await browser.get("/records")

        assert SCRIPT not in page.text
        assert f"Penicillin{ESCAPED_SCRIPT}" in page.text
        assert f"Glucose{ESCAPED_SCRIPT}" in page.text
        assert '"record-text">Blood pressure good.\nRecheck in 3 months.</div>' in page.text


async def test_another_patients_chart_never_shows(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        plant_record(site, 1)
        plant_record(site, 2, label=" Canary")
        browser = await site.signed_in(1)

        page = await browser.get("/records")
        download = await browser.get("/records/health-record.json")

        assert "Penicillin" in page.text and "Penicillin" in download.text
        assert "Canary" not in page.text and "Canary" not in download.text
        assert "Pat2" not in page.text and "Pat2" not in download.text


async def test_download_is_a_fhir_json_attachment(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        plant_record(site, 1)
        browser = await site.signed_in(1)
        page = await browser.get("/records")
        assert page.links(r"^/records/health-record\.json$")
        assert "Download my records (FHIR JSON)" in page.visible_text

        download = await browser.get("/records/health-record.json")

        assert download.status == 200
        assert download.headers["Content-Type"].split(";")[0] == "application/fhir+json"
        assert download.headers["Content-Disposition"] == (
            'attachment; filename="health-record-2026-11-23.json"'
        )
        assert download.headers["Cache-Control"] == "no-store"
        bundle = json.loads(download.text)
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
        kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
        assert {"Patient", "AllergyIntolerance", "Observation"} <= kinds


def test_a_filename_that_is_not_a_plain_json_name_is_replaced() -> None:
    assert download_filename("health-record-2026-11-23.json") == "health-record-2026-11-23.json"
    for unsafe in ('a".json', "../x.json", "x.json\r\nSet-Cookie: y", "record.html", "", None, 7):
        assert download_filename(unsafe) == FALLBACK_FILENAME, unsafe


async def test_viewing_and_downloading_are_audited_once_each(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        before = audit_actions(site, 1)

        await browser.get("/records")
        await browser.get("/records/health-record.json")

        assert audit_actions(site, 1)[len(before) :] == ["records.read", "records.bundle"]


async def test_signed_out_visitors_are_sent_to_sign_in(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = site.browser()
        for url in ("/records", "/records/health-record.json", "/messages", "/forms"):
            page = await browser.get(url)
            assert page.url == "/sign-in?" + urlencode({"notice": "required", "next": url}), url
