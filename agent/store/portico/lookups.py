"""What messages and forms look up in Portico's own practice schema: patients' names, every
appointment type, the patients booked for a type."""

from __future__ import annotations

from collections.abc import Collection

from agent.store.base import AppointmentType, PatientName, Tx
from agent.store.portico.booking import minute_db


class PorticoLookups:
    """The lookups of :class:`agent.store.portico.PorticoStore`."""

    def patient_names(self, tx: Tx, patient_ids: Collection[int]) -> dict[int, PatientName]:
        ids = sorted(set(patient_ids))
        if not ids:
            return {}
        marks = ", ".join(["%s"] * len(ids))
        tx.execute(f"SELECT id, first_name, last_name FROM patients WHERE id IN ({marks})", ids)
        return {
            int(row["id"]): PatientName(row["first_name"], row["last_name"])
            for row in tx.fetchall()
        }

    def all_appointment_types(self, tx: Tx) -> list[AppointmentType]:
        tx.execute("SELECT id, name, duration_minutes FROM appointment_types ORDER BY id")
        return [
            AppointmentType(int(row["id"]), row["name"], int(row["duration_minutes"]))
            for row in tx.fetchall()
        ]

    def patients_with_appointment_type(
        self, tx: Tx, type_id: int, start: int, end: int
    ) -> list[int]:
        tx.execute(
            "SELECT DISTINCT patient_id FROM appointments WHERE appointment_type_id = %s"
            " AND status = 'booked' AND starts_at >= %s AND starts_at < %s ORDER BY patient_id",
            (type_id, minute_db(start), minute_db(end)),
        )
        return [int(row["patient_id"]) for row in tx.fetchall()]
