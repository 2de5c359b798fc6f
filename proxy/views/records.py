"""The patient's health record: allergies, medicines, problems, visits, lab results and
immunizations on one page, and the whole record as a FHIR R4 download (shapes in docs/schema.md).

The agent's codes (`severity`, `status`, `flag`) are shown as words, never raw; anything the
office typed is shown as escaped text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from proxy.views.base import call, render
from proxy.views.times import calendar_date, local_when

FHIR_JSON = "application/fhir+json"
FALLBACK_FILENAME = "health-record.json"
# What the agent names the file ("health-record-2026-11-23.json"); anything else is replaced,
# so nothing from the agent lands in the header unchecked.
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,80}(\.[A-Za-z0-9_-]{1,40})*\.json")

STATUS_WORDS = {
    "active": "Active",
    "inactive": "Inactive",
    "resolved": "Resolved",
    "completed": "Finished",
    "stopped": "Stopped",
    "on_hold": "On hold",
    "recurrence": "Came back",
    "relapse": "Came back",
    "remission": "In remission",
}
FLAG_WORDS = {
    "normal": "Normal",
    "low": "Low",
    "high": "High",
    "critical_low": "Very low",
    "critical_high": "Very high",
    "abnormal": "Outside the usual range",
}
IMMUNIZATION_WORDS = {"completed": "Given", "not-done": "Not given"}
LAB_STATUS_NOTES = {"preliminary": "Preliminary", "amended": "Amended", "corrected": "Corrected"}


def _words(table: dict[str, str], code: object) -> str:
    if not isinstance(code, str) or not code:
        return ""
    return table.get(code, code.replace("_", " ").capitalize())


def _allergy(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "substance": item.get("substance") or "",
        "reaction": item.get("reaction") or "",
        "severity": _words({}, item.get("severity")),
        "status": _words(STATUS_WORDS, item.get("status")),
        "noted": calendar_date(item.get("noted_on")),
        "note": item.get("note") or "",
    }


def _medication(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": item.get("name") or "",
        "dosage": item.get("dosage") or "",
        "status": _words(STATUS_WORDS, item.get("status")),
        "started": calendar_date(item.get("started_on")),
        "ended": calendar_date(item.get("ended_on")),
        "prescriber": item.get("prescriber") or "",
        "note": item.get("note") or "",
    }


def _problem(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": item.get("description") or "",
        "status": _words(STATUS_WORDS, item.get("status")),
        "onset": calendar_date(item.get("onset_on")),
        "resolved": calendar_date(item.get("resolved_on")),
        "note": item.get("note") or "",
    }


def _visit(item: dict[str, Any]) -> dict[str, Any]:
    provider = item.get("provider") or {}
    return {
        "when": local_when(item.get("local_start") or item.get("start") or ""),
        "reason": item.get("reason") or "",
        "provider": provider.get("name") or "",
        "summary": item.get("summary") or "",
    }


def _lab(item: dict[str, Any]) -> dict[str, Any]:
    value = item.get("value") or ""
    # The agent's words for the unit ("mmHg", not the lab's code "mm[Hg]"); an agent
    # from before unit_display sends only the unit.
    unit = item.get("unit_display") or item.get("unit") or ""
    return {
        "test": item.get("test") or "",
        "result": f"{value} {unit}".strip(),
        "range": item.get("reference_range") or "",
        "flag": _words(FLAG_WORDS, item.get("flag")),
        "unusual": item.get("flag") not in (None, "", "normal"),
        "collected": calendar_date(item.get("date")),
        "status_note": LAB_STATUS_NOTES.get(item.get("status") or "", ""),
        "note": item.get("note") or "",
    }


def _immunization(item: dict[str, Any]) -> dict[str, Any]:
    return {
        # As the download names it, when the practice system has no name for the vaccine's code.
        "vaccine": item.get("vaccine") or "Unnamed vaccine",
        "status": _words(IMMUNIZATION_WORDS, item.get("status")),
        "given": calendar_date(item.get("date")),  # the practice's local day
        "lot_number": item.get("lot_number") or "",
        "note": item.get("note") or "",
    }


def records_context(record: dict[str, Any]) -> dict[str, Any]:
    """The page's context from the agent's `records.summary` answer (docs/schema.md)."""
    patient = record.get("patient") or {}
    immunizations = record.get("immunizations")
    return {
        "patient": {
            "name": patient.get("name") or "",
            "born": calendar_date(patient.get("date_of_birth")),
        },
        "allergies": [_allergy(a) for a in record.get("allergies", [])],
        "medications": [_medication(m) for m in record.get("medications", [])],
        "problems": [_problem(p) for p in record.get("problems", [])],
        "visits": [_visit(v) for v in record.get("visits", [])],
        "labs": [_lab(lab) for lab in record.get("labs", [])],
        # None from an agent before immunizations: the page leaves the section out rather
        # than tell the patient the office has none on file.
        "immunizations": (
            None if immunizations is None else [_immunization(i) for i in immunizations]
        ),
    }


async def records_page(request: web.Request) -> web.Response:
    record = await call(request, "records.summary")
    return render(request, "records.html", records_context(record))


def download_filename(name: object) -> str:
    if isinstance(name, str) and _SAFE_FILENAME.fullmatch(name):
        return name
    return FALLBACK_FILENAME


async def health_record(request: web.Request) -> web.Response:
    found = await call(request, "records.bundle")
    text = found.get("bundle_json")
    if isinstance(text, str):
        # Passed on as the agent wrote it: parsing it here would turn 5.40 into 5.4.
        body = text.encode("utf-8")
    else:  # an agent from before bundle_json
        body = json.dumps(found["bundle"], ensure_ascii=False, indent=2).encode("utf-8")
    return web.Response(
        body=body,
        headers={
            "Content-Type": f"{FHIR_JSON}; charset=utf-8",
            "Content-Disposition": (
                f'attachment; filename="{download_filename(found.get("filename"))}"'
            ),
        },
    )
