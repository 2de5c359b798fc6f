"""What every part of agent.access shares: the live rules, the tools, and the common checks.

:class:`AccessContext` holds the database, the office's :class:`AccessRules` (replaced in
place by a reload), the password hasher, the mail templates and the clock, plus the checks
and the audit and mail helpers that sessions, enrolment, registration, credentials, recovery
and the staff actions all use. :class:`agent.access.service.AccessService` is one of these with
those parts attached, so each part reads the rules of the moment through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from agent import audit
from agent.access import queries as q
from agent.access.charts import birth_date_problem
from agent.access.identifiers import (
    IdentifierRefused,
    normalise_email,
    normalise_login,
    normalise_username,
)
from agent.access.passwords import PasswordHasher, PasswordRefused, check_password_policy
from agent.clock import Clock
from agent.db import Database
from agent.errors import Refused
from agent.mail.emails import Mail, MailTemplates
from agent.mail.outbox import enqueue
from agent.store.base import PracticeStore
from protocol.errors import ErrorCode

CHECK_EMAIL = (
    "If an account with portal access matches, we have sent an email with a link. "
    "It may take a few minutes to arrive."
)
LINK_INVALID = "This link is not valid any more. Ask the office to send a new one."


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


class AccessContext:
    """The database, the live rules and the tools every part of agent.access works with."""

    def __init__(
        self,
        db: Database,
        store: PracticeStore,
        rules: AccessRules,
        hasher: PasswordHasher,
        mail: MailTemplates,
        clock: Clock,
    ) -> None:
        self.db = db
        self.store = store  # who the patients are: the practice's data
        self.rules = rules
        self.hasher = hasher
        self.mail = mail
        self.clock = clock

    # -- checks on what a patient typed ------------------------------------------------------

    @staticmethod
    def login_column(login: str) -> tuple[str, str] | None:
        """Which column a typed login is looked up in, normalised; None if it cannot exist."""
        try:
            return q.login_column(normalise_login(login))
        except IdentifierRefused:
            return None

    def email_is_login(self, account: dict[str, Any]) -> bool:
        """Whether this account signs in with its email address. Set when the account was
        made and kept when access.identity changes later; an account with no login yet (an
        invitation not taken up) follows the setting."""
        if account["login_email"] is not None:
            return True
        return account["username"] is None and self.rules.identity == "email"

    @staticmethod
    def checked_email(raw: str, field: str) -> str:
        try:
            return normalise_email(raw)
        except IdentifierRefused as exc:
            raise Refused(ErrorCode.INVALID_PARAMS, f"{field}: {exc.message}") from None

    def checked_username(self, raw: str | None) -> str | None:
        if raw is None or raw == "":
            if self.rules.identity == "username":
                raise Refused(ErrorCode.INVALID_PARAMS, "username: please choose a username")
            return None
        try:
            return normalise_username(raw)
        except IdentifierRefused as exc:
            raise Refused(ErrorCode.INVALID_PARAMS, f"username: {exc.message}") from None

    @staticmethod
    def check_birth_date(born: date, now: datetime) -> None:
        """A typing slip (a future year, 1890 for 1980) is answered as such, before any
        comparison with the records could count it as a wrong answer."""
        problem = birth_date_problem(born, now)
        if problem is not None:
            raise Refused(ErrorCode.INVALID_PARAMS, f"date_of_birth: {problem}")

    @staticmethod
    def check_policy(password: str, field: str, personal: list[str | None]) -> None:
        try:
            check_password_policy(password, personal=[p for p in personal if p])
        except PasswordRefused as exc:
            raise Refused(ErrorCode.INVALID_PARAMS, f"{field}: {exc.message}") from None

    # -- lockout -----------------------------------------------------------------------------

    def count_failure(self, cursor: Any, account: dict[str, Any], now: datetime) -> str:
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

    # -- audit and mail ----------------------------------------------------------------------

    def audit_event(
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

    async def audit_event_alone(self, action: str, outcome: str, **kwargs: Any) -> None:
        await self.db.transaction(
            lambda cursor: self.audit_event(cursor, action, outcome, **kwargs)
        )

    @staticmethod
    def send(cursor: Any, mail: Mail, now: datetime) -> None:
        enqueue(cursor, mail, now=now)


def is_locked(account: dict[str, Any], now: datetime) -> bool:
    until = account["locked_until"]
    return until is not None and until > q.utc(now)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
