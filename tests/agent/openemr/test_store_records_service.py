"""The records service on an OpenEMR practice, end to end below the link: the agent's own store
(agent/wiring.py), its pool in Portico's database beside OpenEMR's, Ada's chart written as
OpenEMR writes it (tests/agent/openemr/chart.py). The summary the records page shows and the FHIR
download both carry her immunizations; each read is audited in Portico's database, with counts
only; Bob's chart is never in Ada's answer (issue 13 item 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.caller import Caller
from agent.clock import FixedClock
from agent.db import Database
from agent.errors import Refused
from agent.records.service import RecordService
from agent.wiring import database_settings, practice_store
from protocol.errors import ErrorCode
from tests.agent.openemr.chart import ADA, BOB, NOW, write_charts
from tests.agent.records.sample import downloaded, resources, validated
from tests.support.database import query
from tests.support.openemr.portal import OpenEMRPortal


async def _service_answers(
    pair: OpenEMRPortal, keys: Path, pid: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    config = pair.config(keys)
    clock = FixedClock(NOW)
    db = Database(database_settings(config))
    try:
        store = practice_store(config, db, clock)
        service = RecordService(store, clock, ZoneInfo(config.practice.timezone), "openemr-clinic")
        caller = Caller(patient_id=pid, client_ip="203.0.113.7")
        summary = await service.summary(caller)
        bundle = downloaded(await service.bundle(caller))
    finally:
        await db.close()
    audit = query(
        pair.portal,
        "SELECT action, outcome, patient_id, detail FROM portal_audit ORDER BY id",
    )
    return summary, bundle, audit


async def test_adas_summary_and_download_carry_her_immunizations_and_are_audited(
    openemr_portal: OpenEMRPortal, link_keys: Path
) -> None:
    write_charts(openemr_portal.openemr)

    summary, bundle, audit = await _service_answers(openemr_portal, link_keys, ADA)

    # tests/agent/openemr/chart.py gives Ada three immunizations, none to Bob.
    assert len(summary["immunizations"]) == 3
    assert {item["status"] for item in summary["immunizations"]} <= {"completed", "not-done"}
    validated(bundle)
    assert len(resources(bundle, "Immunization")) == 3
    patients = resources(bundle, "Patient")
    assert len(patients) == 1 and patients[0]["name"][0]["family"] != "Other"
    # Both reads audited, in Portico's database, as counts (never the entries themselves).
    assert [(row["action"], row["outcome"], row["patient_id"]) for row in audit] == [
        ("records.read", "ok", ADA),
        ("records.bundle", "ok", ADA),
    ]
    assert "immunizations:3" in audit[0]["detail"]


async def test_a_patient_without_a_chart_gets_not_found_and_nothing_else(
    openemr_portal: OpenEMRPortal, link_keys: Path
) -> None:
    write_charts(openemr_portal.openemr)
    config = openemr_portal.config(link_keys)
    clock = FixedClock(NOW)
    db = Database(database_settings(config))
    try:
        store = practice_store(config, db, clock)
        service = RecordService(store, clock, ZoneInfo(config.practice.timezone), "c")
        with pytest.raises(Refused) as refusal:
            await service.summary(Caller(patient_id=BOB + 1000))
    finally:
        await db.close()
    assert refusal.value.code == ErrorCode.NOT_FOUND
