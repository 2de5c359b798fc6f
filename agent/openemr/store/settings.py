"""What the OpenEMR store needs to know besides its pool (built from agent.yaml by
agent/wiring.py)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from agent.openemr.calendar import CANCELLED_STATUSES
from agent.openemr.store.tables import Tables


@dataclass(frozen=True, slots=True)
class OpenEMRSettings:
    tables: Tables  # OpenEMR's tables, named with the practice database
    zone: ZoneInfo  # practice.timezone: the zone of OpenEMR's naive local times
    booking_status: str = "^"  # pc_apptstatus of a new portal booking (OpenEMR's portal: '^')
    cancel_status: str = "x"
    late_cancel_status: str = "%"
    frees_slot: frozenset[str] = CANCELLED_STATUSES
    clinic_wide_blocks: bool = True
    notify_provider: bool = False  # a pnotes row to the provider per booking
