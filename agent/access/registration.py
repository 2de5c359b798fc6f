"""Self-registration (seed 004): a sign-up waits in portal_registrations until its emailed link
is opened; only then is a chart created, or the patient's existing chart given an account.

Issue 11: writing the patients row at sign-up gave existing patients a second, empty chart and
took their email as a login, so the office could no longer invite them. Now:

- at sign-up nothing is written to the practice's tables. If the person matches a chart
  (agent/access/charts.py) whose email on file is the address given, the link activates that
  chart; if they match but the office has another address (or several charts match), the
  address given is told to call the office, and no link is sent;
- whatever happened, the answer is the same "check your email", and so is the work before
  it: the request only queues its row; the matching, the link and the email come from the mail
  worker (answer_sign_ups), as for "forgot password" (being a patient here is itself PHI);
- at verification the match is made again (the office may have added the patient meanwhile).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import pymysql

from agent import audit
from agent.access import queries as q
from agent.access.charts import same_person
from agent.access.context import CHECK_EMAIL, LINK_INVALID, AccessContext
from agent.access.identifiers import IdentifierRefused, normalise_email
from agent.access.tokens import new_token, token_hash
from agent.db import is_duplicate_key
from agent.errors import Refused
from agent.store.base import Patients
from agent.store.errors import PracticeReadOnly
from protocol.errors import ErrorCode

VERIFY_VALID = timedelta(hours=48)
ANSWER_BATCH = 50
# Live verification links one address may have: enough for a typo, a lost email and a second
# try; a script signing a stranger up again and again mails them no more than this.
SIGN_UPS_PER_ADDRESS = 3
CALL_OFFICE = "We could not finish setting up your portal account online. Please call the office."


def _on_file(raw: str | None) -> str | None:
    try:
        return normalise_email(raw) if raw else None
    except IdentifierRefused:
        return None


def matching_charts(
    cursor: Any, store: Patients, signup: dict[str, Any], *, lock: bool = False
) -> list[dict[str, Any]]:
    """The patients the person of a portal_registrations row already is (usually none or
    one)."""
    born: date = signup["date_of_birth"]
    charts = [asdict(p) for p in store.patients_born_on(cursor, born, lock=lock)]
    return [
        row
        for row in charts
        if same_person(row, signup["first_name"], signup["last_name"], born, signup["home_zip"])
    ]


def _chart_to_activate(
    cursor: Any, store: Patients, charts: list[dict[str, Any]], address: str
) -> tuple[int | None, str]:
    """(the one matching chart whose email on file is `address`, "ok"), or (None, why not):
    "needs_office" when there is no such single chart, "already_active" when it already has
    an active account."""
    mine = [chart for chart in charts if _on_file(chart["email"]) == address]
    if len(mine) != 1:
        return None, "needs_office"
    account = q.account_by(cursor, store, "a.patient_id", mine[0]["id"], lock=True)
    if account is not None and account["status"] == "active":
        return None, "already_active"
    return int(mine[0]["id"]), "ok"


def _live_links(cursor: Any, address: str) -> int:
    cursor.execute(
        "SELECT COUNT(*) AS n FROM portal_registrations"
        " WHERE email = %s AND token_hash IS NOT NULL",
        (address,),
    )
    return int(cursor.fetchone()["n"])


class Registrations:
    """access.register and access.verify_email, and the mail worker's half of a sign-up."""

    def __init__(self, access: AccessContext) -> None:
        self.access = access

    async def register(
        self,
        *,
        first_name: str,
        last_name: str,
        date_of_birth: date,
        zip_code: str,
        email: str,
        password: str,
        username: str | None,
        client_ip: str | None,
    ) -> dict[str, Any]:
        access = self.access
        if not access.rules.self_registration:
            raise Refused(
                ErrorCode.FORBIDDEN, "This office does not take sign-ups online; please call."
            )
        now = access.clock.now()
        access.check_birth_date(date_of_birth, now)
        address = access.checked_email(email, "email")
        chosen = access.checked_username(username)
        access.check_policy(password, "password", [address, chosen, first_name])
        hashed = await access.hasher.hash(password)
        zip_code = zip_code.strip()

        def submit(cursor: Any) -> None:
            # The username is the browser's to choose, so whether it is taken is said; whether
            # the person is a patient here is not: that is left to answer_sign_ups, and this
            # row is the only trace every sign-up leaves before the answer.
            if chosen is not None and q.account_by(cursor, access.store, "a.username", chosen):
                raise Refused(ErrorCode.INVALID_PARAMS, "username: that username is taken")
            cursor.execute(
                "INSERT INTO portal_registrations (first_name, last_name, date_of_birth,"
                " home_zip, email, username, client_ip, password_hash, created_at, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    first_name,
                    last_name,
                    date_of_birth,
                    zip_code,
                    address,
                    chosen,
                    client_ip,
                    hashed,
                    q.utc(now),
                    q.utc(now + VERIFY_VALID),
                ),
            )

        await access.db.transaction(submit)
        return {"status": "check_email", "message": CHECK_EMAIL}

    async def answer_sign_ups(self) -> int:
        """Match queued sign-ups and send their emails (the outbox worker calls this before
        each delivery round); returns how many were answered."""
        answered = 0
        while True:
            count = await self.access.db.transaction(self._answer_batch, self.access.clock.now())
            answered += count
            if count < ANSWER_BATCH:
                return answered

    def _answer_batch(self, cursor: Any, now: datetime) -> int:
        # SKIP LOCKED: several workers share the queue without waiting on each other.
        cursor.execute(
            "SELECT * FROM portal_registrations WHERE token_hash IS NULL"
            " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            (ANSWER_BATCH,),
        )
        rows = list(cursor.fetchall())
        for row in rows:
            self._answer(cursor, row, now)
        return len(rows)

    def _answer(self, cursor: Any, row: dict[str, Any], now: datetime) -> None:
        access = self.access
        address = row["email"]
        charts = matching_charts(cursor, access.store, row)
        patient_id, _why = _chart_to_activate(cursor, access.store, charts, address)
        if charts and patient_id is None:
            # Already a patient, but this address is not theirs on file (or the chart is
            # ambiguous, or already has an account): no link, and nothing about the chart.
            access.send(
                cursor,
                access.mail.registration_call_office(to=address, first_name=row["first_name"]),
                now,
            )
            outcome = "match_needs_office"
        elif (
            patient_id is None
            and access.rules.identity == "email"
            and q.account_by(cursor, access.store, "a.login_email", address) is not None
        ):
            # Same email as a new sign-up would get, none: whether an address has an account
            # stays secret.
            outcome = "duplicate_email"
        elif _live_links(cursor, address) >= SIGN_UPS_PER_ADDRESS:
            outcome = "capped"
        else:
            token, hashed_token = new_token()
            cursor.execute(
                "UPDATE portal_registrations SET token_hash = %s, patient_id = %s WHERE id = %s",
                (hashed_token, patient_id, row["id"]),
            )
            access.send(
                cursor,
                access.mail.verify_email(to=address, first_name=row["first_name"], token=token),
                now,
            )
            outcome = "pending" if patient_id is None else "pending_existing_chart"
        if outcome not in ("pending", "pending_existing_chart"):
            cursor.execute("DELETE FROM portal_registrations WHERE id = %s", (row["id"],))
        # Anonymous actor: nobody has proved who they are yet. The chart is named only when
        # exactly one matched, so the trail shows which patient someone tried to sign up as.
        # The time is the sign-up's, not the answer's.
        audit.record(
            cursor,
            now=row["created_at"],
            actor="anonymous",
            patient_id=charts[0]["id"] if len(charts) == 1 else None,
            action="access.register",
            outcome=outcome,
            client_ip=row["client_ip"],
        )

    async def forget_expired(self) -> int:
        """Delete sign-ups whose link has expired: names, birth dates and password hashes of
        people who never confirmed are not kept. Run by the outbox worker every round."""

        def delete(cursor: Any) -> int:
            cursor.execute(
                "DELETE FROM portal_registrations WHERE expires_at <= %s",
                (q.utc(self.access.clock.now()),),
            )
            return int(cursor.rowcount)

        return await self.access.db.transaction(delete)

    async def verify_email(self, token: str, client_ip: str | None) -> dict[str, Any]:
        access = self.access
        now = access.clock.now()

        def verify(cursor: Any) -> str:
            cursor.execute(
                "SELECT * FROM portal_registrations"
                " WHERE token_hash = %s AND expires_at > %s FOR UPDATE",
                (token_hash(token), q.utc(now)),
            )
            row = cursor.fetchone()
            if row is None:
                return "unknown"
            # Used up whatever happens next: the link works once.
            cursor.execute("DELETE FROM portal_registrations WHERE id = %s", (row["id"],))
            return self._complete(cursor, row, now, client_ip)

        try:
            outcome = await access.db.transaction(verify)
        except pymysql.err.IntegrityError as exc:
            # A concurrent sign-in name or address claim won the unique key; nothing changed.
            if not is_duplicate_key(exc):
                raise
            await access.audit_event_alone(
                "access.verify_email", "conflict", patient_id=None, client_ip=client_ip
            )
            outcome = "call_office"
        if outcome == "unknown":
            return await self._verify_legacy_account(token, client_ip)
        if outcome == "invalid":
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        if outcome == "call_office":
            raise Refused(ErrorCode.FORBIDDEN, CALL_OFFICE)
        return {"verified": True}

    async def _verify_legacy_account(self, token: str, client_ip: str | None) -> dict[str, Any]:
        """A link mailed before portal_registrations existed: its account (and chart) were
        made at sign-up, status "pending"; opening the link gives it access, as it did."""
        access = self.access
        now = access.clock.now()

        def verify(cursor: Any) -> bool:
            redeemed = q.redeem_token(cursor, access.store, token, "verify_email", now)
            if redeemed is None:
                return False
            _row, account = redeemed
            q.update_account(
                cursor, account["id"], status="active", access_enabled=1, activated_at=now
            )
            access.audit_event(
                cursor,
                "access.verify_email",
                "ok",
                patient_id=account["patient_id"],
                client_ip=client_ip,
            )
            return True

        if not await access.db.transaction(verify):
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        return {"verified": True}

    def _complete(
        self, cursor: Any, row: dict[str, Any], now: datetime, client_ip: str | None
    ) -> str:
        """Create the account (and the chart if the person has none); "ok" or "call_office"."""
        access = self.access
        address = row["email"]
        charts = matching_charts(cursor, access.store, row, lock=True)
        patient_id, why = _chart_to_activate(cursor, access.store, charts, address)

        def refuse(outcome: str) -> str:
            access.audit_event(
                cursor,
                "access.verify_email",
                outcome,
                patient_id=patient_id,
                actor="anonymous",
                client_ip=client_ip,
            )
            # A second link of a sign-up that is done already is just a spent link.
            return "invalid" if outcome == "already_active" else "call_office"

        if charts and patient_id is None:
            return refuse("already_active" if why == "already_active" else "match_needs_office")
        login_email = address if access.rules.identity == "email" else None
        if login_email is not None:
            other = q.account_by(cursor, access.store, "a.login_email", login_email)
            if other is not None and other["patient_id"] != patient_id:
                return refuse("address_in_use")
        if row["username"] is not None:
            other = q.account_by(cursor, access.store, "a.username", row["username"])
            if other is not None and other["patient_id"] != patient_id:
                return refuse("username_taken")
        if patient_id is None:
            # Seed 004: a self-registered patient exists once their email is verified.
            try:
                patient_id = access.store.create_patient(
                    cursor,
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    date_of_birth=row["date_of_birth"],
                    email=address,
                    home_zip=row["home_zip"],
                )
            except PracticeReadOnly:
                # The practice system makes its own charts (OpenEMR): the office registers
                # the person, who is told to call, as when the chart needs the office.
                return refuse("no_chart")
            detail = "new_chart"
        else:
            detail = "existing_chart"
        account = q.account_by(cursor, access.store, "a.patient_id", patient_id, lock=True)
        if account is None:
            account_id = q.create_account(
                cursor,
                patient_id=patient_id,
                email=address,
                login_email=login_email,
                username=row["username"],
                status="active",
                access_enabled=True,
                now=now,
            )
        else:
            # Invited meanwhile: the sign-up's password wins, and the invitation link ends.
            account_id = account["id"]
            q.end_unused_tokens(cursor, account_id, now)
            q.update_account(
                cursor,
                account_id,
                email=address,
                login_email=login_email,
                username=row["username"],
                status="active",
            )
        q.update_account(
            cursor,
            account_id,
            password_hash=row["password_hash"],
            password_changed_at=now,
            activated_at=now,
            access_enabled=1,
        )
        access.audit_event(
            cursor,
            "access.verify_email",
            "ok",
            patient_id=patient_id,
            client_ip=client_ip,
            detail=detail,
        )
        return "ok"
