"""Patients in OpenEMR's `patient_data`: identity fields and the portal permission.

A patient is their `pid` (what every OpenEMR table joins on), never `patient_data.id`. Of
`patient_data` Portico writes one column, `allow_patient_portal` ('YES'/'NO', as OpenEMR's
demographics page does), when staff run `access enable|disable`; a new chart and the email on
a chart are the office's to make in OpenEMR (:class:`~agent.store.errors.PracticeReadOnly`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from agent.openemr import people
from agent.openemr.people import PatientIdentity
from agent.store.base import PatientRow, Tx
from agent.store.errors import PracticeReadOnly

if TYPE_CHECKING:
    from agent.openemr.store.tables import Tables

NO_NEW_CHARTS = "new charts are made in OpenEMR, not by the portal"
NO_EMAIL_CHANGE = "the email on a chart is changed in OpenEMR, not by the portal"


def _row(identity: PatientIdentity) -> PatientRow | None:
    """Portico's identity fields; None for a chart without a birth date (a zero DOB from a
    non-strict server), whom no portal check could match, as agent/openemr/records.py."""
    if identity.date_of_birth is None:
        return None
    return PatientRow(
        id=identity.pid,
        first_name=identity.first_name,
        last_name=identity.last_name,
        date_of_birth=identity.date_of_birth,
        email=identity.email or None,
        home_zip=identity.postal_code or None,
    )


class OpenEMRPatients:
    """The patient methods of :class:`agent.openemr.store.OpenEMRStore`."""

    tables: Tables
    # Named locks are changes.py's (GET_LOCK per patient): the one lock every change takes.
    lock_patient: Callable[[Tx, int], bool]

    def patient(self, tx: Tx, patient_id: int, *, lock: bool = False) -> PatientRow | None:
        if lock and not self.lock_patient(tx, patient_id):
            return None
        identity = people.patient_identity(tx, patient_id, tables=self.tables)
        return None if identity is None else _row(identity)

    def patients(self, tx: Tx) -> list[PatientRow]:
        found = (_row(i) for i in people.all_patients(tx, tables=self.tables))
        return [row for row in found if row is not None]

    def patients_born_on(self, tx: Tx, born: date, *, lock: bool = False) -> list[PatientRow]:
        # `lock` needs nothing here: it keeps a chart from being added while registration
        # decides, and Portico adds no charts to OpenEMR (create_patient). OpenEMR's rows are
        # never locked by Portico (its screens would wait on the portal).
        found = (_row(i) for i in people.patients_born_on(tx, born, tables=self.tables))
        return [row for row in found if row is not None]

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
        raise PracticeReadOnly(NO_NEW_CHARTS)

    def set_patient_email(self, tx: Tx, patient_id: int, email: str) -> None:
        raise PracticeReadOnly(NO_EMAIL_CHANGE)

    def portal_allowed(self, tx: Tx, patient_id: int) -> bool:
        """`allow_patient_portal` exactly 'YES' and no date of death, read now (on every
        request: staff switching the portal off in OpenEMR ends access at the next click)."""
        identity = people.patient_identity(tx, patient_id, tables=self.tables)
        return identity is not None and identity.may_use_portal

    def set_portal_allowed(self, tx: Tx, patient_id: int, allowed: bool) -> bool:
        value = "YES" if allowed else "NO"
        tx.execute(
            f"SELECT allow_patient_portal FROM {self.tables.patient_data} WHERE pid = %s",
            (patient_id,),
        )
        row = tx.fetchone()
        # Exact, in Python: general_ci would call 'yes' the same as 'YES' (queries.py).
        if row is None or row["allow_patient_portal"] == value:
            return False
        tx.execute(
            f"UPDATE {self.tables.patient_data} SET allow_patient_portal = %s WHERE pid = %s",
            (value, patient_id),
        )
        return True
