"""The health record in the browser: every section lists the signed-in patient's entries and
none of another patient's, and the download link saves a FHIR R4 Bundle that validates and
holds exactly that patient's rows. The entries carry canary strings that must never reach
the proxy's logs."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from playwright.async_api import Locator, Page, expect

from agent.records.fhir import practice_namespace, resource_id
from tests.agent.records.sample import validated
from tests.agent.records.seeding import seed_records
from tests.e2e.canary import CANARY_EMAIL, CANARY_FIRST, CANARY_LAST, CANARY_PASSWORD
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_content import CANARY_PATIENT, assert_clean, download_headers_checked
from tests.e2e.portal_site import PortalSite
from tests.e2e.signed_in import activated_canary
from tests.proxy.agent_fixtures import SUBDOMAIN
from tests.support.logs import LogCapture

MARKER = "Canaryrecord Hx4"  # in patient A's (the canary patient's) entries
OTHER = 2  # patient B, Pat2 Example
OTHER_MARKER = "Otherchart Yy7"  # in patient B's entries
DOWNLOAD = "/records/health-record.json"
FILENAME = "health-record-2026-11-23.json"  # the office's date today

Planted = dict[str, list[dict[str, Any]]]
# Per kind: its section on the page, the column naming each entry, its FHIR resource, and
# where that resource carries the entry's name.
KINDS = {
    "allergies": ("Allergies", "substance", "AllergyIntolerance", ("code", "text")),
    "medications": (
        "Medications",
        "name",
        "MedicationStatement",
        ("medicationCodeableConcept", "text"),
    ),
    "problems": ("Problems", "description", "Condition", ("code", "text")),
    "visits": ("Visit summaries", "reason", "Encounter", ("reasonCode", 0, "text")),
    "labs": ("Lab results", "test_name", "Observation", ("code", "text")),
}


def section(page: Page, name: str) -> Locator:
    return page.get_by_role("main").get_by_role("region", name=name, exact=True)


async def shows_exactly(page: Page, planted: Planted) -> None:
    """Each section holds one entry per planted row (table rows, or visit cards), by name."""
    for kind, (title, column, _, _) in KINDS.items():
        part = section(page, title)
        entries = (
            part.get_by_role("listitem") if kind == "visits" else part.get_by_role("rowheader")
        )
        await expect(entries).to_have_count(len(planted[kind]))
        for row in planted[kind]:
            await expect(part).to_contain_text(row[column])


def named(resource: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    found: Any = resource
    for step in path:
        found = found[step]
    return found


def expected_entries(planted: Planted) -> set[tuple[str, str, str]]:
    """(resourceType, id, name) of every resource the bundle must hold, Patient included."""
    namespace = practice_namespace(SUBDOMAIN)
    patient_id = resource_id(namespace, "Patient", CANARY_PATIENT)
    entries = {("Patient", patient_id, f"{CANARY_FIRST} {CANARY_LAST}")}
    for kind, (_, column, resource_type, _) in KINDS.items():
        entries |= {
            (resource_type, resource_id(namespace, resource_type, row["id"]), row[column])
            for row in planted[kind]
        }
    return entries


def bundle_entries(bundle: dict[str, Any]) -> set[tuple[str, str, str]]:
    paths = {resource_type: path for _, _, resource_type, path in KINDS.values()}
    found = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        if kind == "Patient":
            [name] = resource["name"]
            found.add((kind, resource["id"], f"{' '.join(name['given'])} {name['family']}"))
        else:
            found.add((kind, resource["id"], named(resource, paths[kind])))
    return found


def refers_to_patient(bundle: dict[str, Any]) -> bool:
    patient = f"urn:uuid:{resource_id(practice_namespace(SUBDOMAIN), 'Patient', CANARY_PATIENT)}"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            continue
        reference = resource.get("subject") or resource.get("patient") or {}
        if reference.get("reference") != patient:
            return False
    return True


async def test_view_the_record_and_download_it_as_a_fhir_bundle(
    site: PortalSite, patient: Patient, checks: PageChecks, logs: LogCapture
) -> None:
    clinic = site.clinic
    page = patient.page
    settings = clinic.office.settings
    mine = seed_records(settings, CANARY_PATIENT, marker=MARKER)
    seed_records(settings, OTHER, marker=OTHER_MARKER)
    await activated_canary(clinic)
    await patient.open(clinic.url("/"), "sign-in")
    await patient.sign_in(CANARY_EMAIL, CANARY_PASSWORD)

    await patient.press(patient.link("Records", in_main=False), "records")
    await patient.heading_is("My health record")
    await patient.sees(f"{CANARY_FIRST} {CANARY_LAST}")
    await patient.sees("January 1, 1970")
    await shows_exactly(page, mine)
    # Portico's own schema holds no immunizations: the section is there and says so.
    await expect(section(page, "Immunizations")).to_contain_text(
        "The office has no immunizations on file for you."
    )
    await patient.sees(f"Negative {MARKER}")  # a lab result reported in words
    main = page.get_by_role("main")
    for theirs in (OTHER_MARKER, "Pat2"):
        await expect(main).not_to_contain_text(theirs)

    async with page.expect_download() as downloading:
        link = patient.link("Download my records (FHIR JSON)")
        await (link.tap() if patient.touch else link.click())
    download = await downloading.value
    assert download.suggested_filename == FILENAME
    again = await download_headers_checked(page, checks, site, clinic, DOWNLOAD)
    assert again.headers["content-type"].startswith("application/fhir+json")
    text = (await download.path()).read_text(encoding="utf-8")
    for theirs in (OTHER_MARKER, "Pat2", "pat2@example.org"):
        assert theirs not in text, f"patient B's {theirs!r} is in patient A's download"

    bundle = json.loads(text)
    assert isinstance(validated(bundle), Bundle)  # fhir.resources.R4B, plus R4's codes
    assert bundle["type"] == "collection"
    assert bundle_entries(bundle) == expected_entries(mine)
    assert refers_to_patient(bundle)
    assert MARKER in text  # the patient's own entries, marked, are the ones sent

    await assert_clean(checks, logs, page, clinic, {"record entries": MARKER})
