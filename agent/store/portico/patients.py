"""The patients half of the Portico store: identity fields of the ``patients`` table.

Who a patient is (name, date of birth, zip) and how to reach them (email) is the practice's;
whether they have a portal account, and its state, is Portico's own (``portal_accounts``,
agent/access/queries.py).
"""

from __future__ import annotations

from datetime import date

from agent.store.base import PatientRow, Tx

_PATIENT = "SELECT id, first_name, last_name, date_of_birth, email, home_zip FROM patients"


class PorticoPatients:
    """The patient-identity methods of :class:`agent.store.portico.PorticoStore`."""

    def patient(self, tx: Tx, patient_id: int, *, lock: bool = False) -> PatientRow | None:
        tx.execute(_PATIENT + " WHERE id = %s" + (" FOR UPDATE" if lock else ""), (patient_id,))
        row = tx.fetchone()
        return None if row is None else PatientRow(**row)

    def patients(self, tx: Tx) -> list[PatientRow]:
        tx.execute(_PATIENT + " ORDER BY id")
        return [PatientRow(**row) for row in tx.fetchall()]

    def patients_born_on(self, tx: Tx, born: date, *, lock: bool = False) -> list[PatientRow]:
        # With no index on date_of_birth, FOR UPDATE locks every row it scans and the gaps
        # between them: no patient can be inserted meanwhile.
        tx.execute(
            _PATIENT + " WHERE date_of_birth = %s ORDER BY id" + (" FOR UPDATE" if lock else ""),
            (born,),
        )
        return [PatientRow(**row) for row in tx.fetchall()]

    def create_patient(
        self,
        tx: Tx,
        *,
        first_name: str,
        last_name: str,
        date_of_birth: date,
        email: str,
        home_zip: str | None,
    ) -> int:
        tx.execute(
            "INSERT INTO patients (first_name, last_name, date_of_birth, email, home_zip)"
            " VALUES (%s, %s, %s, %s, %s)",
            (first_name, last_name, date_of_birth, email, home_zip),
        )
        return int(tx.lastrowid)

    def set_patient_email(self, tx: Tx, patient_id: int, email: str) -> None:
        tx.execute("UPDATE patients SET email = %s WHERE id = %s", (email, patient_id))

    def portal_allowed(self, tx: Tx, patient_id: int) -> bool:
        # Portico's practice schema has no such flag: portal_accounts.access_enabled, Portico's
        # own, is the only switch, so there is nothing to read here.
        return True

    def set_portal_allowed(self, tx: Tx, patient_id: int, allowed: bool) -> bool:
        return False  # nothing to record: see portal_allowed
