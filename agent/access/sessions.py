"""Signing in and out, and the session check before every signed-in request.

Every rule of DESIGN.md "Access rules" (seeds 002 and 004) on sessions and lockout is enforced
here, against the database, with an audit row for each sign-in. The sign-in answer is
identical whether or not the account exists, and does the same work (one argon2
verification, two transactions) either way.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.access import queries as q
from agent.access.context import AccessContext, is_locked, iso
from agent.caller import Caller
from agent.errors import Refused
from protocol.errors import ErrorCode

SESSION_TOUCH = timedelta(seconds=60)  # last_seen_at is written at most this often

SIGN_IN_FAILED = (
    "The sign-in details are not right, or this account cannot sign in just now. Check them "
    "and try again in a few minutes, or use \u201cForgot password\u201d."
)


class Sessions:
    """access.sign_in, access.sign_out, and the caller behind a session token."""

    def __init__(self, access: AccessContext) -> None:
        self.access = access

    async def resolve_session(self, token: str | None, client_ip: str | None) -> Caller:
        """The caller a session token belongs to, or Refused(unauthenticated)."""
        if not token or len(token) > 128:
            raise Refused(ErrorCode.UNAUTHENTICATED, "Please sign in.")
        now = self.access.clock.now()
        idle = timedelta(minutes=self.access.rules.session_idle_minutes)

        store = self.access.store

        def check(cursor: Any) -> Caller | None:
            row = q.session(cursor, token)
            if row is None or not row["access_enabled"] or row["status"] != "active":
                return None
            if not store.portal_allowed(cursor, row["patient_id"]):
                return None
            naive_now = q.utc(now)
            if row["expires_at"] <= naive_now or row["last_seen_at"] + idle <= naive_now:
                return None
            if naive_now - row["last_seen_at"] >= SESSION_TOUCH:
                q.touch_session(cursor, row["id"], now)
            return Caller(row["patient_id"], client_ip, row["account_id"])

        caller = await self.access.db.transaction(check)
        if caller is None:
            raise Refused(ErrorCode.UNAUTHENTICATED, "Please sign in again.")
        return caller

    async def sign_in(self, login: str, password: str, client_ip: str | None) -> dict[str, Any]:
        access = self.access
        now = access.clock.now()
        where = access.login_column(login)

        def find(cursor: Any) -> dict[str, Any] | None:
            return None if where is None else q.account_by(cursor, access.store, *where)

        account = await access.db.transaction(find)
        usable = (
            account is not None
            and account["password_hash"]
            and account["status"] == "active"
            and account["access_enabled"]
            and account["portal_allowed"]
        )
        locked = account is not None and is_locked(account, now)
        if usable and account is not None:
            matches = await access.hasher.verify(account["password_hash"], password)
        else:
            matches = await access.hasher.verify_dummy(password)
        ok = bool(usable and matches and not locked)
        rules = access.rules

        def record(cursor: Any) -> dict[str, Any] | None:
            if account is None:
                access.audit_event(
                    cursor, "access.sign_in", "failed", patient_id=None, client_ip=client_ip
                )
                return None
            patient_id = account["patient_id"]
            # Re-read under the row lock: concurrent guesses must all count, and a lock set by
            # one of them meanwhile must hold for this one too.
            current = q.account_by(cursor, access.store, "a.id", account["id"], lock=True)
            assert current is not None
            locked_now = is_locked(current, now)
            if ok and not locked_now:
                q.update_account(cursor, account["id"], failed_logins=0, locked_until=None)
                token, expires = q.create_session(
                    cursor,
                    account["id"],
                    now,
                    timedelta(hours=rules.session_absolute_hours),
                    client_ip,
                )
                access.audit_event(
                    cursor, "access.sign_in", "ok", patient_id=patient_id, client_ip=client_ip
                )
                return {"session": token, "expires_at": iso(expires)}
            if locked_now:
                outcome = "locked"
            elif usable:
                outcome = access.count_failure(cursor, current, now)
            else:
                outcome = "no_access"
            access.audit_event(
                cursor, "access.sign_in", outcome, patient_id=patient_id, client_ip=client_ip
            )
            return None

        result = await access.db.transaction(record)
        if result is None:
            raise Refused(ErrorCode.UNAUTHENTICATED, SIGN_IN_FAILED)
        return result

    async def sign_out(self, token: str | None, client_ip: str | None) -> dict[str, Any]:
        access = self.access
        now = access.clock.now()

        def revoke(cursor: Any) -> None:
            account_id = q.revoke_session(cursor, token or "", now)
            if account_id is not None:
                account = q.account_by(cursor, access.store, "a.id", account_id)
                access.audit_event(
                    cursor,
                    "access.sign_out",
                    "ok",
                    patient_id=account["patient_id"] if account else None,
                    client_ip=client_ip,
                )

        await access.db.transaction(revoke)
        return {"signed_out": True}
