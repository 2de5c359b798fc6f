"""Forms: staff load definitions and assign them; patients fill them in, save drafts and send.

Each method is one transaction; every read and write of a patient's form writes its audit row
(action ``form.*``; outcome ``ok``, ``not_found``, ``invalid`` or ``refused``; ids only, never an
answer) in that same transaction, and a refusal is audited in a transaction of its own, since
the refused one is rolled back. A patient only ever reaches assignments whose ``patient_id`` is
the session's: another patient's assignment and a nonexistent one are the same ``not_found``.
The rules about answers are the pure functions of answers.py; the SQL is in queries.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from agent import audit, idempotency
from agent.caller import Caller
from agent.clock import Clock
from agent.db import Database, is_duplicate_key
from agent.errors import Refused
from agent.forms import queries as q
from agent.forms.answers import check_draft, validate_answers
from agent.forms.by_type import UnknownAppointmentType, booked_patients
from agent.forms.definition import (
    Answer,
    FormDefinition,
    FormField,
    definition_from_json,
)
from agent.store.base import Lookups
from protocol.errors import ErrorCode

T = TypeVar("T")

SAVE = "forms.save"  # the method name its idempotency keys are stored under
NOT_FOUND = "That form was not found."
ALREADY_SENT = "This form was already sent to the office."
# Audit outcomes for the link errors a patient can cause here.
_OUTCOMES: dict[str, str] = {
    ErrorCode.NOT_FOUND: "not_found",
    ErrorCode.INVALID_PARAMS: "invalid",
    ErrorCode.FORBIDDEN: "refused",
}


class FormsRefused(Exception):
    """A staff action that cannot be done; the message says why, for the command line."""

    def __init__(
        self, message: str, *, outcome: str = "refused", patient_id: int | None = None
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.patient_id = patient_id


@dataclass(frozen=True, slots=True)
class AddedForm:
    key: str
    version: int
    title: str
    new: bool  # False: the same definition already was the latest version


@dataclass(slots=True)
class AssignSummary:
    patients_found: int = 0
    assigned: dict[int, int] = field(default_factory=dict)  # patient id -> assignment id
    already_had: list[int] = field(default_factory=list)  # patient ids


@dataclass(frozen=True, slots=True)
class ExportRow:
    assignment_id: int
    patient_id: int
    version: int
    submitted_at: datetime
    answers: dict[str, Answer]


@dataclass(frozen=True, slots=True)
class FormExport:
    key: str
    title: str
    fields: list[FormField]  # every version's questions, the latest version's first
    rows: list[ExportRow]


class FormService:
    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo, *, lookups: Lookups) -> None:
        self.db = db
        self.lookups = lookups  # the practice store's: patients, appointment types
        self.clock = clock
        self.zone = zone
        # A stored definition never changes (a new file makes a new row), so it is parsed once.
        self._definitions: dict[int, FormDefinition] = {}

    # -- the patient's side ------------------------------------------------------------------

    async def list_for_patient(self, caller: Caller) -> dict[str, Any]:
        def read(cursor: Any) -> list[dict[str, Any]]:
            return q.patient_assignments(cursor, caller.patient_id)

        rows = await self._patient_tx(caller, "form.list", None, read)
        open_rows = [r for r in rows if r["status"] != "submitted"]
        sent_rows = [r for r in rows if r["status"] == "submitted"]
        open_rows.sort(key=lambda r: (r["assigned_at"], r["id"]), reverse=True)
        sent_rows.sort(key=lambda r: (r["submitted_at"], r["id"]), reverse=True)
        return {"forms": [self._summary(row) for row in open_rows + sent_rows]}

    async def get(self, caller: Caller, assignment_id: int) -> dict[str, Any]:
        def read(cursor: Any) -> dict[str, Any]:
            row = _owned(cursor, caller, assignment_id, lock=False)
            definition = self._definition(row)
            return {
                "assignment_id": row["id"],
                "title": definition.title,
                "description": definition.description,
                "status": row["status"],
                "fields": [question.for_patient() for question in definition.fields],
                "answers": json.loads(row["answers"]) if row["answers"] else {},
            }

        return await self._patient_tx(caller, "form.read", assignment_id, read)

    async def save(
        self,
        caller: Caller,
        assignment_id: int,
        answers: Mapping[str, Answer],
        submit: bool,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        """Keep a draft as typed, or judge the answers and send them (final)."""
        action = "form.submit" if submit else "form.save_draft"
        request = {"assignment": assignment_id, "answers": answers, "submit": submit}
        digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        key = idempotency_key

        def change(cursor: Any) -> dict[str, Any]:
            if key is not None:
                idempotency.claim(cursor, caller.patient_id, key, SAVE, digest)
            row = _owned(cursor, caller, assignment_id, lock=True)
            if row["status"] == "submitted":
                raise Refused(ErrorCode.FORBIDDEN, ALREADY_SENT)
            definition, now = self._definition(row), self._now()
            if submit:
                normalised, errors = validate_answers(definition, answers)
                _refuse_wrong_answers(errors)
                q.save_submitted(cursor, assignment_id, normalised, now)
            else:
                _refuse_wrong_answers(check_draft(definition, answers))
                q.save_draft(cursor, assignment_id, answers, now)
            reply = {"status": "submitted" if submit else "draft"}
            if key is not None:
                idempotency.store_reply(cursor, caller.patient_id, key, reply)
            return reply

        try:
            return await self._patient_tx(caller, action, assignment_id, change)
        except idempotency.Replay:
            return await self.db.transaction(
                idempotency.stored_reply, caller.patient_id, key, SAVE, digest
            )

    async def _patient_tx(
        self, caller: Caller, action: str, assignment_id: int | None, fn: Callable[[Any], T]
    ) -> T:
        """Run ``fn(cursor)`` and write its audit row in the same transaction; a refusal is
        audited on its own (the refused transaction is rolled back)."""
        now = self._now()
        detail = None if assignment_id is None else f"assignment:{assignment_id}"

        def audited(cursor: Any) -> T:
            result = fn(cursor)
            _audit_patient(cursor, now, caller, action, "ok", detail)
            return result

        try:
            return await self.db.transaction(audited)
        except Refused as refused:
            outcome = _OUTCOMES.get(refused.code, refused.code)
            await self.db.transaction(_audit_patient, now, caller, action, outcome, detail)
            raise

    def _definition(self, row: Mapping[str, Any]) -> FormDefinition:
        definition = self._definitions.get(row["form_id"])
        if definition is None:
            definition = definition_from_json(row["definition"])
            self._definitions[row["form_id"]] = definition
        return definition

    def _summary(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "assignment_id": row["id"],
            "title": row["title"],
            "status": row["status"],
            "assigned_at": _utc_text(row["assigned_at"]),
            "local_assigned": self._local_text(row["assigned_at"]),
            "submitted_at": _utc_text(row["submitted_at"]),
            "local_submitted": self._local_text(row["submitted_at"]),
        }

    def _local_text(self, stored: datetime | None) -> str | None:
        if stored is None:
            return None
        return stored.replace(tzinfo=UTC).astimezone(self.zone).isoformat()

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC).replace(microsecond=0)

    # -- the office's side -------------------------------------------------------------------

    async def add_definition(self, definition: FormDefinition, actor: str) -> AddedForm:
        """Load a definition: the next version of its key, unless it equals the latest."""
        now = self._now()

        def add(cursor: Any) -> AddedForm:
            try:
                version, new = q.add_form_version(cursor, definition, now, actor)
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
                raise FormsRefused(
                    "another `forms add` of this form ran at the same moment; run this one again"
                ) from None
            detail = f"form:{definition.key} version:{version}" + ("" if new else " unchanged")
            audit.by_staff(cursor, now, actor, None, "form.add", "ok", detail)
            return AddedForm(definition.key, version, definition.title, new)

        return await self._staff_tx(actor, "form.add", definition.key, add)

    async def forms_overview(self) -> list[dict[str, Any]]:
        """Every loaded form key: its latest version and how many assignments are in each
        state (counts only; no patient is named, so nothing is audited)."""
        return await self.db.transaction(q.overview)

    async def assign(self, form_key: str, patient_id: int, actor: str) -> int:
        """Give the latest version of the form to one patient; the assignment's id."""

        def assign_one(cursor: Any) -> int:
            form = _latest_form(cursor, form_key)
            if not self.lookups.patient_names(cursor, [patient_id]):
                raise FormsRefused(f"no patient has id {patient_id}", outcome="not_found")
            open_id = q.open_assignment(cursor, form_key, patient_id)
            if open_id is not None:
                raise FormsRefused(
                    f"patient {patient_id} already has this form to fill in "
                    f"(assignment {open_id}); nothing was assigned",
                    patient_id=patient_id,
                )
            return self._assign_tx(cursor, form, patient_id, actor)

        return await self._staff_tx(actor, "form.assign", form_key, assign_one)

    async def assign_by_appointment_type(
        self, form_key: str, appointment_type: str, days: int, actor: str
    ) -> AssignSummary:
        """Give the form to every patient with a booked appointment of the type (its id or its
        name) starting in the next ``days`` days, except patients who were ever given this
        form key (open or sent), so running it again only reaches the newly booked."""
        now = self._now()

        def assign_many(cursor: Any) -> AssignSummary:
            form = _latest_form(cursor, form_key)
            try:
                patients = booked_patients(self.lookups, cursor, appointment_type, now, days)
            except UnknownAppointmentType as unknown:
                raise FormsRefused(str(unknown), outcome="not_found") from None
            had = q.patients_given(cursor, form_key, patients)
            summary = AssignSummary(patients_found=len(patients))
            for patient_id in patients:
                if patient_id in had:
                    summary.already_had.append(patient_id)
                else:
                    summary.assigned[patient_id] = self._assign_tx(cursor, form, patient_id, actor)
            return summary

        return await self._staff_tx(actor, "form.assign", form_key, assign_many)

    def _assign_tx(self, cursor: Any, form: Mapping[str, Any], patient_id: int, actor: str) -> int:
        now = self._now()
        assignment_id = q.insert_assignment(cursor, form["id"], patient_id, now, actor)
        detail = f"assignment:{assignment_id} form:{form['form_key']} version:{form['version']}"
        audit.by_staff(cursor, now, actor, patient_id, "form.assign", "ok", detail)
        return assignment_id

    async def export_answers(self, form_key: str, actor: str) -> FormExport:
        """Every sent copy of the form (all versions), oldest first; each patient's answers
        read is audited."""
        now = self._now()

        def export(cursor: Any) -> FormExport:
            versions = q.form_versions(cursor, form_key)
            if not versions:
                raise FormsRefused(_unknown_form(cursor, form_key), outcome="not_found")
            definitions = {v["version"]: definition_from_json(v["definition"]) for v in versions}
            rows = [_export_row(row) for row in q.submitted(cursor, form_key)]
            for row in rows:
                detail = f"assignment:{row.assignment_id} form:{form_key}"
                audit.by_staff(cursor, now, actor, row.patient_id, "form.export", "ok", detail)
            summary = f"form:{form_key} rows:{len(rows)}"
            audit.by_staff(cursor, now, actor, None, "form.export", "ok", summary)
            latest = definitions[versions[0]["version"]]
            return FormExport(form_key, latest.title, _all_fields(definitions), rows)

        return await self._staff_tx(actor, "form.export", form_key, export)

    async def _staff_tx(self, actor: str, action: str, form_key: str, fn: Callable[[Any], T]) -> T:
        try:
            return await self.db.transaction(fn)
        except FormsRefused as refused:
            await self.db.transaction(
                audit.by_staff,
                self._now(),
                actor,
                refused.patient_id,
                action,
                refused.outcome,
                f"form:{form_key}",
            )
            raise


def _owned(cursor: Any, caller: Caller, assignment_id: int, *, lock: bool) -> dict[str, Any]:
    row = q.owned_assignment(cursor, caller.patient_id, assignment_id, lock=lock)
    if row is None:
        raise Refused(ErrorCode.NOT_FOUND, NOT_FOUND)
    return row


def _refuse_wrong_answers(errors: Mapping[str, str]) -> None:
    # The message is the contract (docs/protocol.md: "answers.<name>: <what to fix>", joined
    # with "; "); details carry the same as a mapping for requesters that prefer one.
    if errors:
        raise Refused(
            ErrorCode.INVALID_PARAMS,
            "; ".join(f"answers.{name}: {message}" for name, message in errors.items()),
            details={"answers": dict(errors)},
        )


def _latest_form(cursor: Any, form_key: str) -> dict[str, Any]:
    form = q.latest_form(cursor, form_key, lock=True)
    if form is None:
        raise FormsRefused(_unknown_form(cursor, form_key), outcome="not_found")
    return form


def _unknown_form(cursor: Any, form_key: str) -> str:
    keys = q.form_keys(cursor)
    loaded = f"loaded forms: {', '.join(keys)}" if keys else "no form is loaded yet"
    return f'no form with key "{form_key}" ({loaded}); load one with `portico-agent forms add FILE`'


def _export_row(row: Mapping[str, Any]) -> ExportRow:
    return ExportRow(
        assignment_id=int(row["id"]),
        patient_id=int(row["patient_id"]),
        version=int(row["version"]),
        submitted_at=row["submitted_at"].replace(tzinfo=UTC),
        answers=json.loads(row["answers"]),
    )


def _all_fields(definitions: Mapping[int, FormDefinition]) -> list[FormField]:
    seen: dict[str, FormField] = {}
    for version in sorted(definitions, reverse=True):
        for question in definitions[version].fields:
            seen.setdefault(question.name, question)
    return list(seen.values())


def _audit_patient(
    cursor: Any, now: datetime, caller: Caller, action: str, outcome: str, detail: str | None
) -> None:
    audit.by_patient(cursor, caller, now=now, action=action, outcome=outcome, detail=detail)


def _utc_text(stored: datetime | None) -> str | None:
    return None if stored is None else stored.strftime("%Y-%m-%dT%H:%M:%SZ")
