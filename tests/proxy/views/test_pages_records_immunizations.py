"""Issue 13 item 7: the records page's Immunizations section.

Only the OpenEMR store reads immunizations, and the portal cannot yet run on it end to end
(its patient and chart methods are another branch's), so the section is rendered by the proxy
app's own template environment from a real `records.summary` answer: Ada's OpenEMR chart
(tests/agent/openemr/chart.py) read by the real reader, summarised by the agent's
summary_view and passed through JSON as the link would. The empty section is checked against
the real agent and proxy on Portico's schema, which has no immunizations.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2

from agent.db.pool import DatabaseSettings
from agent.records.service import summary_view
from agent.store.base import ClinicalRecord, ImmunizationRow, PatientRow
from proxy.app import create_app
from proxy.views.base import Office
from proxy.views.records import records_context
from tests.agent.openemr.chart import ADA, ZONE, read, write_charts
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup
from tests.proxy.portal import Page, portal
from tests.proxy.views.clinical_pages_fixtures import ESCAPED_SCRIPT, SCRIPT
from tests.support.openemr import OpenEMRDatabase


def records_page(summary: dict[str, Any], link_keys: Path, tmp_path: Path) -> Page:
    """records.html as the proxy renders it for `summary`, with a signed-in page's header."""
    answer = json.loads(json.dumps(summary))  # what crosses the link
    setup = ProxySetup(link_keys, tmp_path)
    app = create_app(setup.config({SUBDOMAIN: setup.tenant("127.0.0.1", 1)}))  # never dialled
    template = aiohttp_jinja2.get_env(app).get_template("records.html")
    html = template.render(
        office=Office(name="Example Family Clinic", phone="+1 555 0100"),
        signed_in=True,
        csrf="token",
        route="records",
        notice=None,
        error=None,
        errors={},
        **records_context(answer),
    )
    return Page(url="/records", status=200, headers={}, text=html, set_cookies=[])


def test_an_openemr_chart_shows_each_vaccine_given_or_not_on_its_local_day(
    openemr_db: OpenEMRDatabase, link_keys: Path, tmp_path: Path
) -> None:
    write_charts(openemr_db)
    record = read(openemr_db, ADA)
    assert record is not None

    page = records_page(summary_view(record, ZONE), link_keys, tmp_path)

    text = page.visible_text
    # Newest first; "Not recorded" where the chart has no lot; OpenEMR's codes never shown.
    flu = "Influenza, seasonal, injectable Left arm Given October 1, 2025 FL-2025"
    refused = "Unnamed vaccine Not given January 10, 2024 Not recorded"
    covid = "COVID-19, mRNA, Pfizer Given April 1, 2021 L123"
    assert text.index(flu) < text.index(refused) < text.index(covid)
    assert ">Immunizations</h2>" in page.text
    assert page.links(r"^#immunizations$") == ["#immunizations"]
    assert "not-done" not in page.text and "completed" not in page.text


def test_the_immunizations_table_reads_as_a_table_and_as_cards_on_a_phone(
    openemr_db: OpenEMRDatabase, link_keys: Path, tmp_path: Path
) -> None:
    write_charts(openemr_db)
    record = read(openemr_db, ADA)
    assert record is not None

    html = records_page(summary_view(record, ZONE), link_keys, tmp_path).text

    assert '<caption class="visually-hidden">Your immunizations, newest first</caption>' in html
    for column in ("Vaccine", "Status", "Date", "Lot number"):
        assert f'<th scope="col">{column}</th>' in html
    assert '<th scope="row">Influenza, seasonal, injectable<span class="record-note">' in html
    # portico.css shows each cell with its column's name on a narrow screen.
    assert '<td data-label="Status">Not given</td>' in html
    assert '<td data-label="Date">October 1, 2025</td>' in html
    assert '<td data-label="Lot number">FL-2025</td>' in html


def test_what_the_office_typed_is_text_and_a_missing_date_says_so(
    link_keys: Path, tmp_path: Path
) -> None:
    record = ClinicalRecord(
        patient=PatientRow(
            id=7, first_name="Ada", last_name="Example", date_of_birth=date(1980, 2, 3)
        ),
        immunizations=(
            ImmunizationRow(
                id=1,
                vaccine=f"Tdap{SCRIPT}",
                administered_at=datetime(2026, 3, 8, 2, 30),  # 9:30 PM on March 7 in New York
                lot_number=f"T{SCRIPT}",
                note=SCRIPT,
            ),
            ImmunizationRow(id=2, vaccine="Hepatitis B", administered_at=None, status="not-done"),
        ),
    )

    page = records_page(summary_view(record, ZONE), link_keys, tmp_path)

    assert SCRIPT not in page.text
    assert f"Tdap{ESCAPED_SCRIPT}" in page.text and f"T{ESCAPED_SCRIPT}" in page.text
    assert '<td data-label="Date">March 7, 2026</td>' in page.text
    assert "Hepatitis B Not given Not recorded Not recorded" in page.visible_text


def test_an_agent_from_before_immunizations_gets_no_section_rather_than_none_on_file(
    link_keys: Path, tmp_path: Path
) -> None:
    patient = PatientRow(
        id=7, first_name="Ada", last_name="Example", date_of_birth=date(1980, 2, 3)
    )
    summary = summary_view(ClinicalRecord(patient=patient), ZONE)
    del summary["immunizations"]  # an older agent's answer

    page = records_page(summary, link_keys, tmp_path)

    assert "There are no lab results yet." in page.visible_text  # the rest of the page is there
    assert "mmunization" not in page.text


async def test_the_portico_agent_page_says_no_immunizations_are_on_file(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(3)

        page = await browser.get("/records")

    assert page.status == 200
    assert ">Immunizations</h2>" in page.text
    assert page.links(r"^#immunizations$") == ["#immunizations"]
    assert "Immunizations The office has no immunizations on file for you." in page.visible_text
    assert "<table" not in page.text
