"""What messages and forms look up in OpenEMR's tables: patients' names (`patient_data`), the
patient appointment categories, and the patients with an appointment of a category.

Portico's own tables (messages, form assignments) hold OpenEMR's `pid` as `patient_id`, the
key everything in OpenEMR joins patients on (README 2.1), never `patient_data.id`.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import date, timedelta
from typing import TYPE_CHECKING

from agent.booking.slots import from_minute, to_minute
from agent.openemr.calendar import wall_clock_to_utc
from agent.openemr.people import exact_id
from agent.openemr.queries import NO_SHOW
from agent.openemr.store.schedule import appointment_status
from agent.store.base import AppointmentType, PatientName, Tx

if TYPE_CHECKING:
    from agent.openemr.store.settings import OpenEMRSettings
    from agent.openemr.store.tables import Tables


class OpenEMRLookups:
    """The lookups of :class:`agent.openemr.store.OpenEMRStore`."""

    tables: Tables
    settings: OpenEMRSettings

    def patient_names(self, tx: Tx, patient_ids: Collection[int]) -> dict[int, PatientName]:
        ids = sorted(set(patient_ids))
        if not ids:
            return {}
        marks = ", ".join(["%s"] * len(ids))
        tx.execute(
            f"SELECT pid, fname, lname FROM {self.tables.patient_data} WHERE pid IN ({marks})",
            ids,
        )
        return {
            int(row["pid"]): PatientName(row["fname"] or "", row["lname"] or "")
            for row in tx.fetchall()
        }

    def all_appointment_types(self, tx: Tx) -> list[AppointmentType]:
        """Every patient category (`pc_cattype = 0`), active or not (past bookings keep an
        inactive one), but OpenEMR's No Show marker, which is no visit."""
        tx.execute(
            "SELECT pc_catid, pc_constant_id, pc_catname, pc_duration"
            f" FROM {self.tables.categories} WHERE pc_cattype = 0 ORDER BY pc_catid"
        )
        return [
            AppointmentType(
                int(row["pc_catid"]),
                row["pc_catname"] or "",
                math.ceil(int(row["pc_duration"] or 0) / 60),
            )
            for row in tx.fetchall()
            if row["pc_constant_id"] != NO_SHOW
        ]

    def patients_with_appointment_type(
        self, tx: Tx, type_id: int, start: int, end: int
    ) -> list[int]:
        """Single (non-repeating) appointments only, as OpenEMR's portal shows a patient: a
        repeating patient row is the appointment desk's to manage. Cancelled (the cancel
        statuses and `frees_slot`) and no-show rows do not count."""
        zone = self.settings.zone
        first = from_minute(start).astimezone(zone).date()
        last = from_minute(max(start, end - 1)).astimezone(zone).date()
        tx.execute(
            "SELECT pc_pid, pc_eventDate, pc_startTime, pc_apptstatus"
            f" FROM {self.tables.events}"
            # The date bounds the scan (index pc_eventDate); pc_pid has no index.
            " WHERE pc_catid = %s AND pc_eventDate BETWEEN %s AND %s AND pc_recurrtype = 0"
            " AND pc_startTime IS NOT NULL AND pc_pid <> ''",
            (type_id, first, last),
        )
        s = self.settings
        found: set[int] = set()
        for row in tx.fetchall():
            pid, day, at = exact_id(row["pc_pid"]), row["pc_eventDate"], row["pc_startTime"]
            # A zero-in-date day ('2026-11-00', from a non-strict server) is no appointment.
            if pid is None or not isinstance(day, date) or not isinstance(at, timedelta):
                continue
            # One reading of a status for every page: the appointments list's (schedule.py).
            if appointment_status(row["pc_apptstatus"] or "", s)[0] in ("cancelled", "no_show"):
                continue
            if start <= to_minute(wall_clock_to_utc(day, int(at.total_seconds()), zone)) < end:
                found.add(pid)
        # A row may name a pid that is no (longer a) patient: nobody to give a form to.
        return sorted(self.patient_names(tx, found))
