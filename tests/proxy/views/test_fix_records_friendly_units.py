"""Issue 11: "FHIR download: lab values are strings; make them `valueQuantity` with UCUM units
where the unit is known, give the Patient an identifier, and show friendly units on the records
page."

The proxy's half, against the real agent: the records page shows each unit in the words a
patient reads (from the agent's one table of units), and the download reaches the browser with
the lab's digits intact.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal

# (test, value, unit as the practice system writes it, what the page must show)
LABS = [
    ("White blood cell count", "7.0", "10*3/uL", "7.0 \u00d710\u00b3/\u00b5L"),
    ("Systolic blood pressure", "128", "mm[Hg]", "128 mmHg"),
    ("Body temperature", "36.8", "Cel", "36.8 \u00b0C"),
    ("Potassium", "5.40", "mmol/L", "5.40 mmol/L"),
    ("Sediment rate", "12", "mm/hr", "12 mm/hr"),
]


async def test_the_records_page_shows_units_in_words_and_the_download_keeps_digits(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        for minute, (test, value, unit, _) in enumerate(LABS):
            site.office.execute(
                "INSERT INTO lab_results (patient_id, test_name, value, unit, collected_at)"
                " VALUES (1, %s, %s, %s, %s)",
                (test, value, unit, f"2026-10-01 15:{minute:02d}:00"),
            )
        browser = await site.signed_in(1)

        page = await browser.get("/records")
        download = await browser.get("/records/health-record.json")

    for test, _, _, shown in LABS:
        assert f"{test} {shown} " in page.visible_text
    assert "10*3/uL" not in page.text and "mm[Hg]" not in page.text and "Cel" not in page.text
    assert '"value": 5.40,' in download.text
    bundle = json.loads(download.text, parse_float=Decimal)
    quantities = {
        e["resource"]["code"]["text"]: e["resource"]["valueQuantity"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert quantities["Potassium"]["value"] == Decimal("5.40")
    assert quantities["White blood cell count"]["code"] == "10*3/uL"
