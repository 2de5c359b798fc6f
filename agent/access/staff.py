"""What office staff do from the practice server's command line (seeds 002 and 004):
invite one patient or everyone, turn access on and off, find duplicate emails, change an
address, read the audit trail. Each action writes audit rows with actor "staff:<user>"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from agent import audit
from agent.access import queries as q
from agent.access.credentials import EMAIL_CHANGE_VALID
from agent.access.enrolment import INVITE_VALID
from agent.access.identifiers import IdentifierRefused, mask_email, normalise_email
from agent.access.service import AccessService
from agent.store.errors import PracticeReadOnly

REFUSED = "\x00refused:"


class StaffRefused(Exception):
    """A staff action that cannot be done, with the reason to print."""


@dataclass
class InviteSummary:
    sent: list[int] = field(default_factory=list)
    already_active: list[int] = field(default_factory=list)
    no_valid_email: list[int] = field(default_factory=list)
    no_zip: list[int] = field(default_factory=list)
    duplicates: dict[str, list[int]] = field(default_factory=dict)  # normalised email -> ids


def _normalised(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalise_email(raw)
    except IdentifierRefused:
        return None


@dataclass
class AuditPage:
    rows: list[dict[str, Any]]  # occurred_at in the practice's time zone
    more: int  # rows after the last one that match as well


class StaffActions:
    def __init__(self, access: AccessService, actor: str, zone: tzinfo) -> None:
        self.access = access
        self.actor = actor  # "staff:<unix user>"
        self.zone = zone  # the practice's: staff read and type dates and times in it

    @property
    def _now(self) -> datetime:
        return self.access.clock.now()

    def _audit(
        self,
        cursor: Any,
        action: str,
        outcome: str,
        patient_id: int | None,
        detail: str | None = None,
    ) -> None:
        audit.record(
            cursor,
            now=self._now,
            actor=self.actor,
            patient_id=patient_id,
            action=action,
            outcome=outcome,
            detail=detail,
        )

    async def duplicates(self) -> dict[str, list[dict[str, Any]]]:
        """Patients sharing an email once normalised (case, spaces, lookalike characters)."""
        rows = await self.access.db.transaction(q.all_patients, self.access.store)
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            address = _normalised(row["email"])
            if address is not None:
                groups[address].append(row)
        return {address: group for address, group in groups.items() if len(group) > 1}

    async def invite_all(self) -> InviteSummary:
        """Every patient with a valid email and zip and no active account, except those whose
        email another patient shares (in email-login mode): they are listed instead."""
        rows = await self.access.db.transaction(q.all_patients, self.access.store)
        summary = InviteSummary()
        by_address: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            address = _normalised(row["email"])
            if address is None:
                summary.no_valid_email.append(row["id"])
            else:
                by_address[address].append(row)
        email_login = self.access.rules.identity == "email"
        for address, group in sorted(by_address.items()):
            if email_login and len(group) > 1:
                summary.duplicates[address] = [row["id"] for row in group]
                continue
            for row in group:
                if row["status"] == "active":
                    summary.already_active.append(row["id"])
                elif not (row["home_zip"] or "").strip():
                    summary.no_zip.append(row["id"])
                else:
                    await self.invite(row["id"])
                    summary.sent.append(row["id"])
        return summary

    async def invite(self, patient_id: int) -> str:
        """Send (or re-send) one invitation; returns the masked address it went to."""
        access = self.access
        now = self._now
        email_login = access.rules.identity == "email"

        def invite(cursor: Any) -> str:
            # The account row, then the patient: the order sign-in takes them in (a named
            # lock, which InnoDB's deadlock detector cannot see, must never wait in a cycle).
            account = q.account_by(cursor, access.store, "a.patient_id", patient_id, lock=True)
            patient = access.store.patient(cursor, patient_id, lock=True)
            if patient is None:
                raise StaffRefused(f"there is no patient {patient_id}")
            address = _normalised(patient.email)
            if address is None:
                raise StaffRefused(f"patient {patient_id} has no valid email address on file")
            if not (patient.home_zip or "").strip():
                raise StaffRefused(
                    f"patient {patient_id} has no home zip code on file; activation asks for it"
                )
            if account is not None and account["status"] == "active":
                raise StaffRefused(f"patient {patient_id} already has an active portal account")
            if email_login:
                other = q.account_by(cursor, access.store, "a.login_email", address)
                if other is not None and other["patient_id"] != patient_id:
                    raise StaffRefused(
                        f"patient {patient_id}'s email is already the login of patient "
                        f"{other['patient_id']}; give each patient their own address first "
                        "(see `portico-agent patients duplicates`)"
                    )
            if account is None:
                account_id = q.create_account(
                    cursor,
                    patient_id=patient_id,
                    email=address,
                    login_email=address if email_login else None,
                    username=None,
                    status="invited",
                    access_enabled=access.rules.activate_without_confirmation,
                    now=now,
                )
            else:
                account_id = account["id"]
                q.update_account(
                    cursor, account_id, email=address, login_email=address if email_login else None
                )
            token = q.issue_token(cursor, account_id, "invite", now, INVITE_VALID)
            access.send(
                cursor,
                access.mail.invite(to=address, first_name=patient.first_name, token=token),
                now,
            )
            self._audit(cursor, "access.invite", "sent", patient_id)
            return address

        return mask_email(await access.db.transaction(invite))

    async def set_access(self, patient_id: int, enabled: bool) -> str:
        access = self.access
        now = self._now

        def change(cursor: Any) -> str:
            # Account row first, then the patient, as sign-in (see invite).
            account = q.account_by(cursor, access.store, "a.patient_id", patient_id, lock=True)
            patient = access.store.patient(cursor, patient_id, lock=True)
            if patient is None:
                raise StaffRefused(f"there is no patient {patient_id}")
            if not enabled:
                switched = access.store.set_portal_allowed(cursor, patient_id, False)
                if account is None:
                    if switched:
                        self._audit(cursor, "access.disable", "ok", patient_id, detail="no_account")
                        return "portal turned off in the practice's record (no portal account)"
                    return "had no portal account; nothing to disable"
                q.update_account(cursor, account["id"], access_enabled=0)
                ended = q.revoke_all_sessions(cursor, account["id"], now)
                self._audit(
                    cursor, "access.disable", "ok", patient_id, detail=f"sessions_ended:{ended}"
                )
                return f"access disabled; {ended} session(s) ended"
            address = _normalised(patient.email)
            missing = [
                what
                for what, value in (
                    ("a valid email address", address),
                    ("a home zip code", (patient.home_zip or "").strip()),
                )
                if not value
            ]
            if missing:
                # Recorded and committed; the refusal is raised after the transaction.
                self._audit(cursor, "access.enable", "refused_missing_details", patient_id)
                return REFUSED + (
                    f"cannot enable access for patient {patient_id}: needs "
                    + " and ".join(missing)
                    + " on file"
                )
            switched = access.store.set_portal_allowed(cursor, patient_id, True)
            if account is None:
                email_login = access.rules.identity == "email"
                if email_login and q.account_by(cursor, access.store, "a.login_email", address):
                    raise StaffRefused(
                        f"patient {patient_id}'s email is already another account's login"
                    )
                q.create_account(
                    cursor,
                    patient_id=patient_id,
                    email=address,
                    login_email=address if email_login else None,
                    username=None,
                    status="invited",
                    access_enabled=True,
                    now=now,
                )
                self._audit(cursor, "access.enable", "ok", patient_id)
                return (
                    "access enabled; the patient has no password yet: send an invite, or "
                    "they can use \u201cForgot password\u201d"
                )
            if account["access_enabled"]:
                if switched:
                    self._audit(cursor, "access.enable", "ok", patient_id, detail="practice_record")
                    return "access enabled (portal turned back on in the practice's record)"
                return "access was already enabled"
            q.update_account(cursor, account["id"], access_enabled=1)
            waiting = account["status"] == "active" and not q.has_signed_in(cursor, patient_id)
            if waiting and account["email"]:
                # The activation page promised this email (activate_without_confirmation off).
                # Without a password yet there is nothing to sign in with: the invitation's
                # link, or "forgot password", is their way in instead. An account that was in
                # use and is enabled again was not waiting: "your account is ready" would
                # read as if someone had set one up in the patient's name.
                access.send(
                    cursor,
                    access.mail.portal_ready(to=account["email"], first_name=patient.first_name),
                    now,
                )
            self._audit(cursor, "access.enable", "ok", patient_id)
            return "access enabled"

        message: str = await access.db.transaction(change)
        if message.startswith(REFUSED):
            raise StaffRefused(message.removeprefix(REFUSED))
        return message

    @staticmethod
    def new_address(raw: str) -> str:
        """A typed address, normalised as logins are; StaffRefused says why one is unusable."""
        try:
            return normalise_email(raw)
        except IdentifierRefused as exc:
            raise StaffRefused(exc.message) from None

    async def request_email_change(self, patient_id: int, raw_address: str) -> str:
        """For a patient with a portal account: mail a confirmation link to the new address,
        which takes effect when the patient opens it (the patient's own flow). For one without,
        change the address on file: it reaches nothing until an invitation sent there is opened
        and answered with the birth date and zip code."""
        address = self.new_address(raw_address)
        access = self.access
        now = self._now
        email_login = access.rules.identity == "email"

        def change(cursor: Any) -> str:
            # Account row first, then the patient, as sign-in (see invite).
            account = q.account_by(cursor, access.store, "a.patient_id", patient_id, lock=True)
            patient = access.store.patient(cursor, patient_id, lock=True)
            if patient is None:
                raise StaffRefused(f"there is no patient {patient_id}")
            other = (
                q.account_by(cursor, access.store, "a.login_email", address)
                if email_login
                else None
            )
            if other is not None and (account is None or other["id"] != account["id"]):
                raise StaffRefused("that address is already another account's login")
            if account is None:
                try:
                    access.store.set_patient_email(cursor, patient_id, address)
                except PracticeReadOnly:
                    raise StaffRefused(
                        "the address on file is the practice system's: change it there"
                        " (OpenEMR: the patient's Demographics, Contact), then invite"
                    ) from None
                self._audit(cursor, "access.email_changed", "ok", patient_id, detail="no_account")
                return (
                    "address changed on file (the patient has no portal account yet; an "
                    "invitation will go to the new address)"
                )
            access.credentials.send_email_confirmation(
                cursor, account, address, now, actor=self.actor, client_ip=None
            )
            hours = int(EMAIL_CHANGE_VALID / timedelta(hours=1))
            return (
                f"a confirmation link was sent to {mask_email(address)}. The address changes "
                f"when the patient opens it (within {hours} hours); until then the portal "
                "keeps the old one."
            )

        return await access.db.transaction(change)

    async def audit_page(
        self, patient_id: int | None, since: date | None, after: int | None, limit: int
    ) -> AuditPage:
        """Up to `limit` audit rows in the order they were written, from the practice's local
        date `since` and after row `after`; and how many more match beyond them."""
        where: list[str] = []
        args: list[object] = []
        if patient_id is not None:
            where.append("patient_id = %s")
            args.append(patient_id)
        if since is not None:
            midnight = datetime.combine(since, time(), self.zone).astimezone(UTC)
            where.append("occurred_at >= %s")
            args.append(midnight.replace(tzinfo=None))
        if after is not None:
            where.append("id > %s")
            args.append(after)
        condition = (" WHERE " + " AND ".join(where)) if where else ""

        def read(cursor: Any) -> AuditPage:
            cursor.execute(
                "SELECT id, occurred_at, actor, patient_id, action, outcome, client_ip, detail"
                f" FROM portal_audit{condition} ORDER BY id LIMIT %s",
                [*args, limit],
            )
            rows = list(cursor.fetchall())
            more = 0
            if len(rows) == limit:
                cursor.execute(
                    f"SELECT COUNT(*) AS n FROM portal_audit{condition}"
                    + (" AND" if where else " WHERE")
                    + " id > %s",
                    [*args, rows[-1]["id"]],
                )
                more = int(cursor.fetchone()["n"])
            for row in rows:
                row["occurred_at"] = row["occurred_at"].replace(tzinfo=UTC).astimezone(self.zone)
            return AuditPage(rows, more)

        return await self.access.db.transaction(read)
