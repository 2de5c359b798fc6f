"""What a patient signs in with, and changing it: the account page, passwords ("forgot",
reset, change) and the email address.

The "forgot password" answer is the same whether or not the account exists, and so is the work
before it (agent/access/recovery.py). A change of password or email ends every session; a
change of email is confirmed from the new address and told to the old one (seed 004).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from agent.access import queries as q
from agent.access import recovery
from agent.access.context import CHECK_EMAIL, LINK_INVALID, AccessContext, is_locked, iso
from agent.access.identifiers import mask_email
from agent.caller import Caller
from agent.errors import Refused
from agent.store.errors import PracticeReadOnly
from protocol.errors import ErrorCode

EMAIL_CHANGE_VALID = timedelta(hours=24)


class Credentials:
    """access.account, the password methods and the email change."""

    def __init__(self, access: AccessContext) -> None:
        self.access = access

    async def account_info(self, caller: Caller) -> dict[str, Any]:
        access = self.access

        def read(cursor: Any) -> dict[str, Any] | None:
            account = q.account_by(cursor, access.store, "a.id", caller.account_id)
            if account is not None:
                access.audit_event(
                    cursor,
                    "access.account_read",
                    "ok",
                    patient_id=caller.patient_id,
                    client_ip=caller.client_ip,
                )
            return account

        account = await access.db.transaction(read)
        if account is None:
            raise Refused(ErrorCode.UNAUTHENTICATED, "Please sign in again.")
        return {
            "first_name": account["first_name"],
            "email": mask_email(account["email"]) if account["email"] else None,
            "username": account["username"],
            "identity": "email" if access.email_is_login(account) else "username",
        }

    # -- forgotten passwords -----------------------------------------------------------------

    async def forgot_password(self, login: str, client_ip: str | None) -> dict[str, Any]:
        """Queue the request and answer; agent/access/recovery.py explains why nothing else
        happens here."""
        where = self.access.login_column(login)
        await self.access.db.transaction(
            recovery.queue_request,
            None if where is None else where[1],
            client_ip,
            self.access.clock.now(),
        )
        return {"status": "check_email", "message": CHECK_EMAIL}

    async def answer_reset_requests(self) -> int:
        """Send the emails of queued "forgot password" requests (the outbox worker calls this
        before each delivery round); returns how many requests were answered."""
        access = self.access
        answered = 0
        while True:
            count = await access.db.transaction(
                recovery.answer_requests, access, access.clock.now()
            )
            answered += count
            if count < recovery.BATCH:
                return answered

    async def reset_password(
        self, token: str, password: str, client_ip: str | None
    ) -> dict[str, Any]:
        access = self.access
        now = access.clock.now()
        access.check_policy(password, "password", [])
        hashed = await access.hasher.hash(password)

        def reset(cursor: Any) -> bool:
            redeemed = q.redeem_token(cursor, access.store, token, "reset_password", now)
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
            access.audit_event(
                cursor,
                "access.reset_password",
                "ok",
                patient_id=account["patient_id"],
                client_ip=client_ip,
            )
            return True

        if not await access.db.transaction(reset):
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        return {"reset": True}

    async def reset_link(self, token: str) -> dict[str, Any]:
        """Whether a reset link can still be used, so its page can say at once that it cannot.
        Reads only: the token stays usable, and opening the page is no state change."""
        now = self.access.clock.now()
        if not await self.access.db.transaction(q.token_usable, token, "reset_password", now):
            raise Refused(ErrorCode.NOT_FOUND, LINK_INVALID)
        return {"usable": True}

    # -- changes from the account page -------------------------------------------------------

    async def _check_password(self, caller: Caller, password: str) -> dict[str, Any]:
        """The current password again (change password/email). Wrong answers count towards
        the lockout like sign-in failures, so a stolen session cannot guess without limit."""
        access = self.access
        now = access.clock.now()

        def read(cursor: Any) -> dict[str, Any] | None:
            return q.account_by(cursor, access.store, "a.id", caller.account_id)

        account = await access.db.transaction(read)
        if account is not None and not is_locked(account, now):
            if await access.hasher.verify(account["password_hash"], password):
                return account
        else:
            await access.hasher.verify_dummy(password)

        def record(cursor: Any) -> None:
            outcome = "locked"
            current = q.account_by(cursor, access.store, "a.id", caller.account_id, lock=True)
            if current is not None and not is_locked(current, now):
                outcome = access.count_failure(cursor, current, now)
            access.audit_event(
                cursor,
                "access.password_check",
                outcome,
                patient_id=caller.patient_id,
                client_ip=caller.client_ip,
            )

        await access.db.transaction(record)
        raise Refused(
            ErrorCode.FORBIDDEN,
            "The current password is not right (or too many tries: wait a few minutes).",
        )

    async def change_password(self, caller: Caller, current: str, new: str) -> dict[str, Any]:
        access = self.access
        account = await self._check_password(caller, current)
        access.check_policy(
            new, "new_password", [account["email"], account["username"], account["first_name"]]
        )
        hashed = await access.hasher.hash(new)
        now = access.clock.now()
        absolute = timedelta(hours=access.rules.session_absolute_hours)

        def change(cursor: Any) -> dict[str, Any]:
            q.update_account(cursor, account["id"], password_hash=hashed, password_changed_at=now)
            q.revoke_all_sessions(cursor, account["id"], now)
            token, expires = q.create_session(
                cursor, account["id"], now, absolute, caller.client_ip
            )
            if account["email"]:
                access.send(
                    cursor,
                    access.mail.password_changed_notice(
                        to=account["email"], first_name=account["first_name"]
                    ),
                    now,
                )
            access.audit_event(
                cursor,
                "access.change_password",
                "ok",
                patient_id=caller.patient_id,
                client_ip=caller.client_ip,
            )
            return {"session": token, "expires_at": iso(expires)}

        return await access.db.transaction(change)

    async def change_email(self, caller: Caller, password: str, new_email: str) -> dict[str, Any]:
        access = self.access
        address = access.checked_email(new_email, "new_email")
        account = await self._check_password(caller, password)
        now = access.clock.now()

        def request(cursor: Any) -> None:
            if access.email_is_login(account):
                other = q.account_by(cursor, access.store, "a.login_email", address)
                if other is not None and other["id"] != account["id"]:
                    access.audit_event(
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

        await access.db.transaction(request)
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
        access = self.access
        token = q.issue_token(
            cursor, account["id"], "change_email", now, EMAIL_CHANGE_VALID, new_email=address
        )
        access.send(
            cursor,
            access.mail.confirm_new_email(
                to=address, first_name=account["first_name"], token=token
            ),
            now,
        )
        access.audit_event(
            cursor,
            "access.change_email",
            "confirmation_sent",
            patient_id=account["patient_id"],
            actor=actor,
            client_ip=client_ip,
        )

    async def confirm_email_change(self, token: str, client_ip: str | None) -> dict[str, Any]:
        access = self.access
        now = access.clock.now()

        def confirm(cursor: Any) -> bool:
            redeemed = q.redeem_token(cursor, access.store, token, "change_email", now)
            if redeemed is None:
                return False
            row, account = redeemed
            if access.email_is_login(account):
                other = q.account_by(cursor, access.store, "a.login_email", row["new_email"])
                if other is not None and other["id"] != account["id"]:
                    # Taken by a sign-up since the link was sent: the link is spent, nothing
                    # changes (committed), and the answer is the plain invalid-link one.
                    access.audit_event(
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

        if not await access.db.transaction(confirm):
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
        access = self.access
        old = account["email"]
        login_email = address if access.email_is_login(account) else None
        q.update_account(cursor, account["id"], email=address, login_email=login_email)
        # The portal writes to the account's address; a practice system that keeps the
        # chart's address to itself (OpenEMR) keeps the one the office has on file.
        with suppress(PracticeReadOnly):
            access.store.set_patient_email(cursor, account["patient_id"], address)
        q.revoke_all_sessions(cursor, account["id"], now)
        q.end_unused_tokens(cursor, account["id"], now)
        if old and old != address:
            access.send(
                cursor,
                access.mail.email_changed_notice(
                    to=old, first_name=account["first_name"], new_address_masked=mask_email(address)
                ),
                now,
            )
        access.audit_event(
            cursor,
            "access.email_changed",
            "ok",
            patient_id=account["patient_id"],
            actor=actor,
            client_ip=client_ip,
        )
