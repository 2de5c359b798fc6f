"""Portal accounts: invites, activation, registration, sign-in, sessions and recovery.

Every rule of DESIGN.md "Access rules" (seeds 002 and 004) is enforced here, against the
database, with an audit row for each sign-in and each access change. Answers that could tell
an outsider whether an account exists (sign-in, forgot password) are identical either way,
and do the same work (one argon2 verification, two transactions) either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from agent import audit
from agent.access import queries as q
from agent.access import recovery
from agent.access.charts import birth_date_problem, zip_matches
from agent.access.identifiers import (
    IdentifierRefused,
    mask_email,
    normalise_email,
    normalise_login,
    normalise_username,
)
from agent.access.passwords import PasswordHasher, PasswordRefused, check_password_policy
from agent.access.registration import CHECK_EMAIL, LINK_INVALID, Registrations
from agent.caller import Caller
from agent.clock import Clock
from agent.db import Database
from agent.errors import Refused
from agent.mail.messages import Mail, MailTemplates
from agent.mail.outbox import enqueue
from protocol.errors import ErrorCode

INVITE_VALID = timedelta(hours=72)
EMAIL_CHANGE_VALID = timedelta(hours=24)
TOKEN_CHECKS = 5  # wrong birth date / zip answers before an invite link is burnt
SESSION_TOUCH = timedelta(seconds=60)  # last_seen_at is written at most this often

SIGN_IN_FAILED = (
    "The sign-in details are not right, or this account cannot sign in just now. Check them "
    "and try again in a few minutes, or use \u201cForgot password\u201d."
)


@dataclass(frozen=True, slots=True)
class AccessRules:
    identity: str = "email"
    activate_without_confirmation: bool = False
    self_registration: bool = False
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    lockout_failures: int = 5
    lockout_minutes: int = 15
    reset_emails_per_hour: int = 3


class AccessService:
    def __init__(
        self,
        db: Database,
        rules: AccessRules,
        hasher: PasswordHasher,
        mail: MailTemplates,
        clock: Clock,
    ) -> None:
        self.db = db
        self.rules = rules
        self.hasher = hasher
        self.mail = mail
        self.clock = clock
        # Sign-ups and their verification (agent/access/registration.py).
        self.registrations = Registrations(self)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _login_column(login: str) -> tuple[str, str] | None:
        """Which column a typed login is looked up in, normalised; None if it cannot exist."""
        try:
            return q.login_column(normalise_login(login))
        except IdentifierRefused:
            return None

    def _email_is_login(self, account: dict[str, Any]) -> bool:
        """Whether this account signs in with its email address. Set when the account was
        made and kept when access.identity changes later; an account with no login yet (an
        invitation not taken up) follows the setting."""
        if account["login_email"] is not None:
            return True
        return account["username"] is None and self.rules.identity == "email"

    def _email(self, raw: str, field: str) -> str:
        try:
            return normalise_email(raw)
        except IdentifierRefused as exc:
            raise Refused(ErrorCode.INVALID_PARAMS, f"{field}: {exc.message}") from None

    def _username(self, raw: str | None) -> str | None:
        if raw is None or raw == "":
            if self.rules.identity == "username":
                raise Refused(ErrorCode.INVALID_PARAMS, "username: please choose a username")
            return None
        try:
            return normalise_username(raw)
        except IdentifierRefused as exc:
            raise Refused(ErrorCode.INVALID_PARAMS, f"username: {exc.message}") from None

    @staticmethod
    def _possible_birth_date(born: date, now: datetime) -> None:
        """A typing slip (a future year, 1890 for 1980) is answered as such, before any
        comparison with the records could count it as a wrong answer."""
        problem = birth_date_problem(born, now)
        if problem is not None:
            raise Refused(ErrorCode.INVALID_PARAMS, f"date_of_birth: {problem}")

    @staticmethod
    def _policy(password: str, field: str, personal: list[str | None]) -> None:
        try:
            check_password_policy(password, personal=[p for p in personal if p])
        except PasswordRefused as exc:
            raise Refused(ErrorCode.INVALID_PARAMS, f"{field}: {exc.message}") from None

    def _audit(
        self,
        cursor: Any,
        action: str,
        outcome: str,
        *,
        patient_id: int | None,
        actor: str | None = None,
        client_ip: str | None = None,
        detail: str | None = None,
    ) -> None:
        audit.record(
            cursor,
            now=self.clock.now(),
            actor=actor or (f"patient:{patient_id}" if patient_id else "anonymous"),
            patient_id=patient_id,
            action=action,
            outcome=outcome,
            client_ip=client_ip,
            detail=detail,
        )

    async def _audit_alone(self, action: str, outcome: str, **kwargs: Any) -> None:
        await self.db.transaction(lambda cursor: self._audit(cursor, action, outcome, **kwargs))

    @staticmethod
    def _send(cursor: Any, mail: Mail, now: datetime) -> None:
        enqueue(cursor, mail, now=now)

    # -- sessions ----------------------------------------------------------------------------

    async def resolve_session(self, token: str | None, client_ip: str | None) -> Caller:
        """The caller a session token belongs to, or Refused(unauthenticated)."""
        if not token or len(token) > 128:
            raise Refused(ErrorCode.UNAUTHENTICATED, "Please sign in.")
        now = self.clock.now()
        idle = timedelta(minutes=self.rules.session_idle_minutes)

        def check(cursor: Any) -> Caller | None:
            row = q.session(cursor, token)
            if row is None or not row["access_enabled"] or row["status"] != "active":
                return None
            naive_now = q.utc(now)
            if row["expires_at"] <= naive_now or row["last_seen_at"] + idle <= naive_now:
                return None
            if naive_now - row["last_seen_at"] >= SESSION_TOUCH:
                q.touch_session(cursor, row["id"], now)
            return Caller(row["patient_id"], client_ip, row["account_id"])

        caller = await self.db.transaction(check)
        if caller is None:
            raise Refused(ErrorCode.UNAUTHENTICATED, "Please sign in again.")
        return caller

    async def sign_in(self, login: str, password: str, client_ip: str | None) -> dict[str, Any]:
        now = self.clock.now()
        where = self._login_column(login)

        def find(cursor: Any) -> dict[str, Any] | None:
            return None if where is None else q.account_by(cursor, *where)

        account = await self.db.transaction(find)
        usable = (
            account is not None
            and account["password_hash"]
            and account["status"] == "active"
            and account["access_enabled"]
        )
        locked = account is not None and _is_locked(account, now)
        if usable and account is not None:
            matches = await self.hasher.verify(account["password_hash"], password)
        else:
            matches = await self.hasher.verify_dummy(password)
        ok = bool(usable and matches and not locked)
        rules = self.rules

        def record(cursor: Any) -> dict[str, Any] | None:
            if account is None:
                self._audit(
                    cursor, "access.sign_in", "failed", patient_id=None, client_ip=client_ip
                )
                return None
            patient_id = account["patient_id"]
            # Re-read under the row lock: concurrent guesses must all count, and a lock set by
            # one of them meanwhile must hold for this one too.
            current = q.account_by(cursor, "a.id", account["id"], lock=True)
            assert current is not None
            locked_now = _is_locked(current, now)
            if ok and not locked_now:
                q.update_account(cursor, account["id"], failed_logins=0, locked_until=None)
                token, expires = q.create_session(
                    cursor,
                    account["id"],
                    now,
                    timedelta(hours=rules.session_absolute_hours),
                    client_ip,
                )
                self._audit(
                    cursor, "access.sign_in", "ok", patient_id=patient_id, client_ip=client_ip
                )
                return {"session": token, "expires_at": _iso(expires)}
            if locked_now:
                outcome = "locked"
            elif usable:
                outcome = self._count_failure(cursor, current, now)
            else:
                outcome = "no_access"
            self._audit(
                cursor, "access.sign_in", outcome, patient_id=patient_id, client_ip=client_ip
            )
            return None

        result = await self.db.transaction(record)
        if result is None:
            raise Refused(ErrorCode.UNAUTHENTICATED, SIGN_IN_FAILED)
        return result

    def _count_failure(self, cursor: Any, account: dict[str, Any], now: datetime) -> str:
        """One more wrong password for a (locked-for-update) account; locks it when the count
        reaches lockout_failures. Bounded: the lock lifts by itself after lockout_minutes."""
        failures = account["failed_logins"] + 1
        if failures >= self.rules.lockout_failures:
            q.update_account(
                cursor,
                account["id"],
                failed_logins=0,
                locked_until=now + timedelta(minutes=self.rules.lockout_minutes),
            )
            return "failed_locked_now"
        q.update_account(cursor, account["id"], failed_logins=failures)
        return "failed"

    async def sign_out(self, token: str | None, client_ip: str | None) -> dict[str, Any]:
        now = self.clock.now()

        def revoke(cursor: Any) -> None:
            account_id = q.revoke_session(cursor, token or "", now)
            if account_id is not None:
                account = q.account_by(cursor, "a.id", account_id)
                self._audit(
                    cursor,
                    "access.sign_out",
                    "ok",
                    patient_id=account["patient_id"] if account else None,
                    client_ip=client_ip,
                )

        await self.db.transaction(revoke)
        return {"signed_out": True}

    async def account_info(self, caller: Caller) -> dict[str, Any]:
        def read(cursor: Any) -> dict[str, Any] | None:
            account = q.account_by(cursor, "a.id", caller.account_id)
            if account is not None:
                self._audit(
                    cursor,
                    "access.account_read",
                    "ok",
                    patient_id=caller.patient_id,
                    client_ip=caller.client_ip,
                )
            return account

        account = await self.db.transaction(read)
        if account is None:
            raise Refused(ErrorCode.UNAUTHENTICATED, "Please sign in again.")
        return {
            "first_name": account["first_name"],
            "email": mask_email(account["email"]) if account["email"] else None,
            "username": account["username"],
            "identity": "email" if self._email_is_login(account) else "username",
        }

    # -- activation and registration ---------------------------------------------------------

    async def activate(
        self,
        token: str,
        date_of_birth: date,
        zip_code: str,
        password: str,
        username: str | None,
        client_ip: str | None,
    ) -> dict[str, Any]:
        chosen = self._username(username)
        now = self.clock.now()
        self._possible_birth_date(date_of_birth, now)

        def peek(cursor: Any) -> dict[str, Any] | None:
            row = q.live_token(cursor, token, "invite", now)
            return None if row is None else q.account_by(cursor, "a.id", row["account_id"])

        account = await self.db.transaction(peek)
        if account is None:
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        self._policy(password, "password", [account["email"], chosen, account["first_name"]])
        hashed = await self.hasher.hash(password)

        def apply(cursor: Any) -> dict[str, Any]:
            row = q.live_token(cursor, token, "invite", now)
            if row is None:
                raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
            current = q.account_by(cursor, "a.id", row["account_id"], lock=True)
            assert current is not None
            patient_id = current["patient_id"]
            if current["date_of_birth"] != date_of_birth or not zip_matches(
                current["home_zip"], zip_code
            ):
                q.count_failed_check(cursor, row["id"], now, TOKEN_CHECKS)
                self._audit(
                    cursor,
                    "access.activate",
                    "details_mismatch",
                    patient_id=patient_id,
                    client_ip=client_ip,
                )
                return {"error": "mismatch"}
            if chosen is not None:
                taken = q.account_by(cursor, "a.username", chosen)
                if taken is not None and taken["id"] != current["id"]:
                    return {"error": "username_taken"}
            q.use_token(cursor, row["id"], now)
            q.update_account(
                cursor,
                current["id"],
                password_hash=hashed,
                status="active",
                username=chosen,
                activated_at=now,
                password_changed_at=now,
                failed_logins=0,
                locked_until=None,
            )
            self._audit(cursor, "access.activate", "ok", patient_id=patient_id, client_ip=client_ip)
            return {"activated": True, "access_enabled": bool(current["access_enabled"])}

        result = await self.db.transaction(apply)
        if result.get("error") == "mismatch":
            # Committed above (the failed check counts); now tell the patient.
            raise Refused(
                ErrorCode.FORBIDDEN,
                "The date of birth or zip code does not match the office's records.",
            )
        if result.get("error") == "username_taken":
            raise Refused(ErrorCode.INVALID_PARAMS, "username: that username is taken")
        return result

    async def _verify_legacy_account(self, token: str, client_ip: str | None) -> dict[str, Any]:
        """A link mailed before portal_registrations existed: its account (and chart) were
        made at sign-up, status "pending"; opening the link gives it access, as it did."""
        now = self.clock.now()

        def verify(cursor: Any) -> bool:
            redeemed = q.redeem_token(cursor, token, "verify_email", now)
            if redeemed is None:
                return False
            _row, account = redeemed
            q.update_account(
                cursor, account["id"], status="active", access_enabled=1, activated_at=now
            )
            self._audit(
                cursor,
                "access.verify_email",
                "ok",
                patient_id=account["patient_id"],
                client_ip=client_ip,
            )
            return True

        if not await self.db.transaction(verify):
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        return {"verified": True}

    # -- recovery ----------------------------------------------------------------------------

    async def forgot_password(self, login: str, client_ip: str | None) -> dict[str, Any]:
        """Queue the request and answer; agent/access/recovery.py explains why nothing else
        happens here."""
        where = self._login_column(login)
        await self.db.transaction(
            recovery.queue_request,
            None if where is None else where[1],
            client_ip,
            self.clock.now(),
        )
        return {"status": "check_email", "message": CHECK_EMAIL}

    async def answer_reset_requests(self) -> int:
        """Send the emails of queued "forgot password" requests (the outbox worker calls this
        before each delivery round); returns how many requests were answered."""
        answered = 0
        while True:
            count = await self.db.transaction(recovery.answer_requests, self, self.clock.now())
            answered += count
            if count < recovery.BATCH:
                return answered

    async def reset_password(
        self, token: str, password: str, client_ip: str | None
    ) -> dict[str, Any]:
        now = self.clock.now()
        self._policy(password, "password", [])
        hashed = await self.hasher.hash(password)

        def reset(cursor: Any) -> bool:
            redeemed = q.redeem_token(cursor, token, "reset_password", now)
            if redeemed is None:
                return False
            _row, account = redeemed
            # An invited patient whose access staff enabled sets a first password this way.
            q.update_account(
                cursor,
                account["id"],
                password_hash=hashed,
                status="active",
                password_changed_at=now,
                failed_logins=0,
                locked_until=None,
            )
            q.revoke_all_sessions(cursor, account["id"], now)
            self._audit(
                cursor,
                "access.reset_password",
                "ok",
                patient_id=account["patient_id"],
                client_ip=client_ip,
            )
            return True

        if not await self.db.transaction(reset):
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        return {"reset": True}

    async def reset_link(self, token: str) -> dict[str, Any]:
        """Whether a reset link can still be used, so its page can say at once that it cannot.
        Reads only: the token stays usable, and opening the page is no state change."""
        now = self.clock.now()
        if not await self.db.transaction(q.token_usable, token, "reset_password", now):
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        return {"usable": True}

    async def _check_password(self, caller: Caller, password: str) -> dict[str, Any]:
        """The current password again (change password/email). Wrong answers count towards
        the lockout like sign-in failures, so a stolen session cannot guess without limit."""
        now = self.clock.now()

        def read(cursor: Any) -> dict[str, Any] | None:
            return q.account_by(cursor, "a.id", caller.account_id)

        account = await self.db.transaction(read)
        if account is not None and not _is_locked(account, now):
            if await self.hasher.verify(account["password_hash"], password):
                return account
        else:
            await self.hasher.verify_dummy(password)

        def record(cursor: Any) -> None:
            outcome = "locked"
            current = q.account_by(cursor, "a.id", caller.account_id, lock=True)
            if current is not None and not _is_locked(current, now):
                outcome = self._count_failure(cursor, current, now)
            self._audit(
                cursor,
                "access.password_check",
                outcome,
                patient_id=caller.patient_id,
                client_ip=caller.client_ip,
            )

        await self.db.transaction(record)
        raise Refused(
            ErrorCode.FORBIDDEN,
            "The current password is not right (or too many tries: wait a few minutes).",
        )

    async def change_password(self, caller: Caller, current: str, new: str) -> dict[str, Any]:
        account = await self._check_password(caller, current)
        self._policy(
            new, "new_password", [account["email"], account["username"], account["first_name"]]
        )
        hashed = await self.hasher.hash(new)
        now = self.clock.now()
        absolute = timedelta(hours=self.rules.session_absolute_hours)

        def change(cursor: Any) -> dict[str, Any]:
            q.update_account(cursor, account["id"], password_hash=hashed, password_changed_at=now)
            q.revoke_all_sessions(cursor, account["id"], now)
            token, expires = q.create_session(
                cursor, account["id"], now, absolute, caller.client_ip
            )
            if account["email"]:
                self._send(
                    cursor,
                    self.mail.password_changed_notice(
                        to=account["email"], first_name=account["first_name"]
                    ),
                    now,
                )
            self._audit(
                cursor,
                "access.change_password",
                "ok",
                patient_id=caller.patient_id,
                client_ip=caller.client_ip,
            )
            return {"session": token, "expires_at": _iso(expires)}

        return await self.db.transaction(change)

    async def change_email(self, caller: Caller, password: str, new_email: str) -> dict[str, Any]:
        address = self._email(new_email, "new_email")
        account = await self._check_password(caller, password)
        now = self.clock.now()

        def request(cursor: Any) -> None:
            if self._email_is_login(account):
                other = q.account_by(cursor, "a.login_email", address)
                if other is not None and other["id"] != account["id"]:
                    self._audit(
                        cursor,
                        "access.change_email",
                        "address_in_use",
                        patient_id=caller.patient_id,
                        client_ip=caller.client_ip,
                    )
                    return
            self.send_email_confirmation(
                cursor, account, address, now, actor=caller.actor, client_ip=caller.client_ip
            )

        await self.db.transaction(request)
        return {
            "status": "check_email",
            "message": "We sent a link to the new address. "
            "The change takes effect when you open it.",
        }

    def send_email_confirmation(
        self,
        cursor: Any,
        account: dict[str, Any],
        address: str,
        now: datetime,
        *,
        actor: str,
        client_ip: str | None,
    ) -> None:
        """Mail a confirmation link to the new address; confirm_email_change switches to it
        when the link is opened (seed 004: the new address must be the patient's). The patient
        asks from the account page, staff with `portico-agent email change`."""
        token = q.issue_token(
            cursor, account["id"], "change_email", now, EMAIL_CHANGE_VALID, new_email=address
        )
        self._send(
            cursor,
            self.mail.confirm_new_email(to=address, first_name=account["first_name"], token=token),
            now,
        )
        self._audit(
            cursor,
            "access.change_email",
            "confirmation_sent",
            patient_id=account["patient_id"],
            actor=actor,
            client_ip=client_ip,
        )

    async def confirm_email_change(self, token: str, client_ip: str | None) -> dict[str, Any]:
        now = self.clock.now()

        def confirm(cursor: Any) -> bool:
            redeemed = q.redeem_token(cursor, token, "change_email", now)
            if redeemed is None:
                return False
            row, account = redeemed
            if self._email_is_login(account):
                other = q.account_by(cursor, "a.login_email", row["new_email"])
                if other is not None and other["id"] != account["id"]:
                    # Taken by a sign-up since the link was sent: the link is spent, nothing
                    # changes (committed), and the answer is the plain invalid-link one.
                    self._audit(
                        cursor,
                        "access.email_changed",
                        "address_in_use",
                        patient_id=account["patient_id"],
                        client_ip=client_ip,
                    )
                    return False
            self._apply_email(
                cursor,
                account,
                row["new_email"],
                now,
                actor=f"patient:{account['patient_id']}",
                client_ip=client_ip,
            )
            return True

        if not await self.db.transaction(confirm):
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        return {"changed": True}

    def _apply_email(
        self,
        cursor: Any,
        account: dict[str, Any],
        address: str,
        now: datetime,
        *,
        actor: str,
        client_ip: str | None,
    ) -> None:
        """Switch the address, end every session, and tell the old address (seed 004: an
        email change may be someone taking the account over)."""
        old = account["email"]
        login_email = address if self._email_is_login(account) else None
        q.update_account(cursor, account["id"], email=address, login_email=login_email)
        cursor.execute(
            "UPDATE patients SET email = %s WHERE id = %s", (address, account["patient_id"])
        )
        q.revoke_all_sessions(cursor, account["id"], now)
        q.end_unused_tokens(cursor, account["id"], now)
        if old and old != address:
            self._send(
                cursor,
                self.mail.email_changed_notice(
                    to=old, first_name=account["first_name"], new_address_masked=mask_email(address)
                ),
                now,
            )
        self._audit(
            cursor,
            "access.email_changed",
            "ok",
            patient_id=account["patient_id"],
            actor=actor,
            client_ip=client_ip,
        )


def _is_locked(account: dict[str, Any], now: datetime) -> bool:
    until = account["locked_until"]
    return until is not None and until > q.utc(now)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
