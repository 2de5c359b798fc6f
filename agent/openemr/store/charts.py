"""Clinical records from OpenEMR's tables: agent/openemr/records.py, with the practice's zone
and the store's clock ("now" decides what has ended)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.openemr import records
from agent.store.base import ClinicalRecord, Tx

if TYPE_CHECKING:
    from agent.clock import Clock
    from agent.openemr.store.settings import OpenEMRSettings
    from agent.openemr.store.tables import Tables


class OpenEMRCharts:
    """The chart method of :class:`agent.openemr.store.OpenEMRStore`."""

    tables: Tables
    settings: OpenEMRSettings
    clock: Clock

    def clinical_record(self, tx: Tx, patient_id: int) -> ClinicalRecord | None:
        return records.clinical_record(
            tx, patient_id, tables=self.tables, zone=self.settings.zone, now=self.clock.now()
        )
