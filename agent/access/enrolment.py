"""Enrolment by invitation: a patient opens the link staff sent (agent/access/staff.py) and
proves who they are with their date of birth and home zip code, then chooses a password.

Sign-ups without an invitation are agent/access/registration.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agent.access import queries as q
from agent.access.charts import zip_matches
from agent.access.context import LINK_INVALID, AccessContext
from agent.errors import Refused
from protocol.errors import ErrorCode

INVITE_VALID = timedelta(hours=72)
TOKEN_CHECKS = 5  # wrong birth date / zip answers before an invite link is burnt


class Enrolment:
    """access.activate: an invitation taken up."""

    def __init__(self, access: AccessContext) -> None:
        self.access = access

    async def activate(
        self,
        token: str,
        date_of_birth: date,
        zip_code: str,
        password: str,
        username: str | None,
        client_ip: str | None,
    ) -> dict[str, Any]:
        access = self.access
        chosen = access.checked_username(username)
        now = access.clock.now()
        access.check_birth_date(date_of_birth, now)

        def peek(cursor: Any) -> dict[str, Any] | None:
            row = q.live_token(cursor, token, "invite", now)
            return (
                None
                if row is None
                else q.account_by(cursor, access.store, "a.id", row["account_id"])
            )

        account = await access.db.transaction(peek)
        if account is None:
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        access.check_policy(password, "password", [account["email"], chosen, account["first_name"]])
        hashed = await access.hasher.hash(password)

        def apply(cursor: Any) -> dict[str, Any]:
            row = q.live_token(cursor, token, "invite", now)
            if row is None:
                raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
            current = q.account_by(cursor, access.store, "a.id", row["account_id"], lock=True)
            assert current is not None
            patient_id = current["patient_id"]
            if current["date_of_birth"] != date_of_birth or not zip_matches(
                current["home_zip"], zip_code
            ):
                q.count_failed_check(cursor, row["id"], now, TOKEN_CHECKS)
                access.audit_event(
                    cursor,
                    "access.activate",
                    "details_mismatch",
                    patient_id=patient_id,
                    client_ip=client_ip,
                )
                return {"error": "mismatch"}
            if chosen is not None:
                taken = q.account_by(cursor, access.store, "a.username", chosen)
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
            access.audit_event(
                cursor, "access.activate", "ok", patient_id=patient_id, client_ip=client_ip
            )
            return {"activated": True, "access_enabled": bool(current["access_enabled"])}

        result = await access.db.transaction(apply)
        if result.get("error") == "mismatch":
            # Committed above (the failed check counts); now tell the patient.
            raise Refused(
                ErrorCode.FORBIDDEN,
                "The date of birth or zip code does not match the office's records.",
            )
        if result.get("error") == "username_taken":
            raise Refused(ErrorCode.INVALID_PARAMS, "username: that username is taken")
        return result
