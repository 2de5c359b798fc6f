"""The practice store: what the domain services read and write in the practice's own data.

A practice's patients, providers, schedule and chart live in its practice-management system's
database; Portico's own tables (``portal_*``: accounts, sessions, tokens, messages, forms,
audit, outbox, idempotency) do not, and are not part of this interface. The services (booking,
access, records, messages, forms) reach practice data only through :class:`PracticeStore`,
made of four parts (:class:`Schedule` for booking, :class:`Patients` for access,
:class:`Charts` for records, :class:`Lookups` for messages and forms, so a helper can ask for
only the part it reads); each practice system has one implementation
(``agent/store/portico/`` for Portico's own schema), built by agent/wiring.py. The rules stay
out of the stores: which starts are offered is the pure ``agent.booking.slots.provider_slots``
over the values returned here, for every store.

Why a ``typing.Protocol`` and not an ABC: the stores share no code (each is its own SQL), so a
base class would hold nothing but the method list; structurally typed, the services depend on
the shape only, mypy checks each store where agent/wiring.py hands it out as a PracticeStore,
and a test can wrap a store (a fault hook) without inheriting from it.

Conventions of every method: times are whole epoch minutes, UTC (agent/booking/slots.py);
intervals are ``[start, end)`` and come unmerged (merging is a rule, in slots.py); a method
taking ``tx`` runs inside :meth:`PracticeStore.transaction`, on its worker thread, and
``tx`` is that transaction's cursor, which the services also use for Portico's own tables, so
a change and its audit row commit together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

# The cursor of the store's transaction (a PyMySQL DictCursor for both SQL stores).
Tx = Any

# [start, end) in epoch minutes.
Interval = tuple[int, int]


class SlotTaken(Exception):
    """Raised by :meth:`PracticeStore.insert_appointment` when the store finds, after taking
    its locks, that the time was taken by a writer that does not take them (another program
    writing the same calendar). The service answers as for a slot no longer free; the
    transaction rolls back."""


# -- booking ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoursBlock:
    """One block of working hours in minutes of the local day: every week on `weekday`
    (0 = Monday), or, with `on` set, on that local date only (a store whose schedule is not a
    weekly pattern, such as calendar events that repeat, gives its hours that way)."""

    weekday: int
    start: int
    end: int
    on: date | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider who takes online bookings."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class AppointmentType:
    """An appointment type patients may book online (field order is the link answer's)."""

    id: int
    name: str
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class Appointment:
    """One of a patient's appointments, with the names it is shown with."""

    id: int
    patient_id: int
    provider_id: int
    provider_name: str
    type_id: int
    type_name: str
    duration_minutes: int  # the type's, not necessarily end - start
    start: int
    end: int
    status: str  # booked | cancelled | completed | no_show
    late_cancel: bool


# -- clinical records ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatientRow:
    id: int
    first_name: str
    last_name: str
    date_of_birth: date
    email: str | None = None
    phone: str | None = None
    home_zip: str | None = None


@dataclass(frozen=True, slots=True)
class AllergyRow:
    id: int
    substance: str
    code_system: str | None = None  # "rxnorm" | "snomed"
    code: str | None = None
    category: str | None = None  # medication | food | environment | biologic
    reaction: str | None = None
    severity: str | None = None  # mild | moderate | severe
    status: str = "active"  # active | inactive | resolved
    noted_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MedicationRow:
    id: int
    name: str
    rxnorm_code: str | None = None
    dosage: str | None = None
    status: str = "active"  # active | completed | stopped | on_hold
    started_on: date | None = None
    ended_on: date | None = None
    prescriber: str | None = None  # the provider's display name
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ProblemRow:
    id: int
    description: str
    icd10_code: str | None = None
    snomed_code: str | None = None
    status: str = "active"  # FHIR condition-clinical codes
    onset_on: date | None = None
    resolved_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: int
    started_at: datetime  # naive UTC
    reason: str
    ended_at: datetime | None = None
    provider_id: int | None = None
    provider_name: str | None = None
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class LabRow:
    id: int
    test_name: str
    value: str
    collected_at: datetime  # naive UTC
    loinc_code: str | None = None
    unit: str | None = None
    reference_range: str | None = None
    flag: str | None = None  # normal | low | high | critical_low | critical_high | abnormal
    status: str = "final"  # preliminary | final | amended | corrected
    visit_id: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ImmunizationRow:
    """A vaccine given (or declined). Portico's own schema has no immunizations: only the
    OpenEMR reader (agent/openemr/records.py) fills these."""

    id: int
    vaccine: str  # the vaccine's name; "" when the practice system has none for the code
    administered_at: datetime | None  # naive UTC, like VisitRow.started_at
    cvx_code: str | None = None
    status: str = "completed"  # completed | not-done (FHIR immunization-status)
    lot_number: str | None = None
    manufacturer: str | None = None
    expires_on: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ClinicalRecord:
    """Everything the practice holds for one patient that the records page shows."""

    patient: PatientRow
    allergies: tuple[AllergyRow, ...] = ()
    medications: tuple[MedicationRow, ...] = ()
    problems: tuple[ProblemRow, ...] = ()
    visits: tuple[VisitRow, ...] = ()
    labs: tuple[LabRow, ...] = ()
    immunizations: tuple[ImmunizationRow, ...] = ()  # empty from Portico's own schema


# -- the interface -------------------------------------------------------------------------


class Schedule(Protocol):
    """Providers, appointment types, their time and a patient's appointments (booking)."""

    # -- booking: reads

    def appointment_types(self, tx: Tx) -> list[AppointmentType]:
        """The types bookable online, by name then id."""
        ...

    def appointment_type(self, tx: Tx, type_id: int) -> AppointmentType | None:
        """One type, if it is bookable online."""
        ...

    def providers(
        self, tx: Tx, type_id: int | None = None, provider_id: int | None = None
    ) -> list[Provider]:
        """Providers taking online bookings (for a type; only `provider_id`), in id order."""
        ...

    def working_hours(
        self,
        tx: Tx,
        provider_ids: Sequence[int],
        first_day: date,
        last_day: date,
        type_id: int | None = None,
    ) -> dict[int, list[HoursBlock]]:
        """Each provider's working hours on the local days first_day..last_day (inclusive):
        weekly blocks, dated ones, or both; blocks outside the range are ignored. With
        `type_id`, only the hours open to that appointment type (OpenEMR's In Office rows
        may be reserved for one category)."""
        ...

    def busy_intervals(
        self, tx: Tx, provider_ids: Sequence[int], start: int, end: int
    ) -> dict[int, list[Interval]]:
        """What takes each provider's time (booked appointments, time off) overlapping
        [start, end)."""
        ...

    def patient_busy(
        self, tx: Tx, patient_id: int, start: int, end: int, except_id: int | None = None
    ) -> list[Interval]:
        """The patient's own booked appointments overlapping [start, end), with any provider
        (but `except_id`, the one being moved)."""
        ...

    def upcoming_count(self, tx: Tx, patient_id: int, now: int) -> int:
        """How many booked appointments the patient has starting at or after `now`."""
        ...

    def appointments_per_provider(
        self, tx: Tx, provider_ids: Sequence[int], start: int, end: int
    ) -> dict[int, int]:
        """Booked appointments starting in [start, end), counted per provider."""
        ...

    def patient_appointments(self, tx: Tx, patient_id: int) -> list[Appointment]:
        """The patient's appointments, latest start first, at most 200."""
        ...

    def appointment(self, tx: Tx, appointment_id: int, patient_id: int) -> Appointment | None:
        """One of this patient's appointments; someone else's and a missing one look alike."""
        ...

    # -- booking: changes. A lock_* method holds what it names until the transaction ends;
    # how (row locks, named locks) is the store's. Every change transaction locks the patient
    # first, then the appointment it changes, then the providers it may book.

    def lock_patient(self, tx: Tx, patient_id: int) -> bool:
        """Serialise this patient's booking changes; False if there is no such patient."""
        ...

    def lock_appointment(self, tx: Tx, appointment_id: int, patient_id: int) -> Appointment | None:
        """:meth:`appointment`, held against other changes."""
        ...

    def lock_providers(self, tx: Tx, type_id: int, provider_id: int | None) -> list[Provider]:
        """:meth:`providers` for a booking, held (always in id order, so that concurrent
        bookings never wait on each other in a cycle) so no other booking can take their time
        before this transaction ends."""
        ...

    def insert_appointment(
        self, tx: Tx, patient_id: int, provider_id: int, type_id: int, start: int, duration: int
    ) -> int:
        """Book [start, start + duration) as a portal booking; the new appointment's id.
        May raise :class:`SlotTaken`."""
        ...

    def cancel_appointment(self, tx: Tx, appointment_id: int, now: int, *, late: bool) -> None:
        """Mark the appointment cancelled by the patient at `now` (never delete it)."""
        ...


class Patients(Protocol):
    """Who the patients are and how to reach them (access): name, date of birth, email, zip."""

    def patient(self, tx: Tx, patient_id: int, *, lock: bool = False) -> PatientRow | None:
        """One patient's identity fields (name, date of birth, email, zip); with lock=True
        held against changes (as :meth:`lock_patient`)."""
        ...

    def patients(self, tx: Tx) -> list[PatientRow]:
        """Every patient, in id order (staff invitations and the duplicate report)."""
        ...

    def patients_born_on(self, tx: Tx, born: date, *, lock: bool = False) -> list[PatientRow]:
        """The patients with this date of birth, in id order; with lock=True no patient born
        that day can be added or changed until the transaction ends (self-registration
        decides "new chart or existing one" under it)."""
        ...

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
        """A new chart for a self-registered patient; its id."""
        ...

    def set_patient_email(self, tx: Tx, patient_id: int, email: str) -> None:
        """The email address on file for the patient."""
        ...

    def portal_allowed(self, tx: Tx, patient_id: int) -> bool:
        """Whether the practice lets this patient use a portal at all. Read on every request,
        so staff turning it off in their own system ends access at the next click; Portico's
        own per-account switch (``portal_accounts.access_enabled``) is checked besides."""
        ...

    def set_portal_allowed(self, tx: Tx, patient_id: int, allowed: bool) -> bool:
        """Record the practice's portal permission (staff ran ``access enable|disable``);
        True if the practice's record changed (False where the store keeps none)."""
        ...


class Charts(Protocol):
    """A patient's clinical record (records)."""

    def clinical_record(self, tx: Tx, patient_id: int) -> ClinicalRecord | None:
        """The patient's whole record, or None if the patient is gone."""
        ...


@dataclass(frozen=True, slots=True)
class PatientName:
    """A patient's name as the office registered it."""

    first_name: str
    last_name: str

    @property
    def full(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Lookups(Protocol):
    """What messages and forms look up in the practice's data: Portico's own tables keep
    patient and appointment-type ids only, never a copy of the practice's rows."""

    def patient_names(self, tx: Tx, patient_ids: Collection[int]) -> dict[int, PatientName]:
        """The names of those of `patient_ids` who are patients (a missing id is absent)."""
        ...

    def all_appointment_types(self, tx: Tx) -> list[AppointmentType]:
        """Every appointment type patients are booked for, bookable online or not, by id."""
        ...

    def patients_with_appointment_type(
        self, tx: Tx, type_id: int, start: int, end: int
    ) -> list[int]:
        """The patients with an appointment of the type starting in [start, end) that is
        still to happen (not cancelled, not a no-show), in id order."""
        ...


class PracticeStore(Schedule, Patients, Charts, Lookups, Protocol):
    """The practice's data as the domain services need it (see the module docstring): the
    four parts above, and the transaction they run in."""

    def transaction(self, fn: Callable[..., T], *args: Any) -> Awaitable[T]:
        """Run ``fn(tx, *args)`` in one transaction on a worker thread: commit if it returns,
        roll back if it raises. Locks taken by the ``lock_*`` methods last until it ends."""
        ...
