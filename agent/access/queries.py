"""SQL of agent.access: accounts, one-time tokens and sessions (Portico's own tables).

Every function takes the transaction's cursor (agent/db/pool.py). DATETIMEs are UTC, naive.
Who the patient is (name, date of birth, zip, email on file) is the practice's: it comes from
the practice store (agent/store/base.py), passed in where an account row carries it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agent.access.tokens import new_token, token_hash
from agent.store.base import Patients

_ACCOUNT = (
    "SELECT a.id, a.patient_id, a.email, a.login_email, a.username, a.password_hash, a.status,"
    " a.access_enabled, a.failed_logins, a.locked_until"
    " FROM portal_accounts a"
)


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def account_by(
    cursor: Any, store: Patients, column: str, value: object, *, lock: bool = False
) -> dict[str, Any] | None:
    """The account, with its patient's identity from the practice store (first_name,
    date_of_birth, home_zip, patient_email, and portal_allowed: the practice's own
    permission); None if either is missing. With lock=True both
    the account and the patient are held until the transaction ends."""
    assert column in {"a.id", "a.patient_id", "a.login_email", "a.username"}
    cursor.execute(_ACCOUNT + f" WHERE {column} = %s" + (" FOR UPDATE" if lock else ""), (value,))
    row: dict[str, Any] | None = cursor.fetchone()
    if row is None:
        return None
    patient = store.patient(cursor, row["patient_id"], lock=lock)
    if patient is None:
        return None
    return {
        **row,
        "first_name": patient.first_name,
        "date_of_birth": patient.date_of_birth,
        "home_zip": patient.home_zip,
        "patient_email": patient.email,
        "portal_allowed": store.portal_allowed(cursor, patient.id),
    }


def login_column(login: str) -> tuple[str, str]:
    """Where a normalised login is looked up. An email address always has an "@" and a
    username never does (agent/access/identifiers.py), so the login itself says which."""
    return ("a.login_email" if "@" in login else "a.username"), login


def create_account(
    cursor: Any,
    *,
    patient_id: int,
    email: str | None,
    login_email: str | None,
    username: str | None,
    status: str,
    access_enabled: bool,
    now: datetime,
) -> int:
    cursor.execute(
        "INSERT INTO portal_accounts (patient_id, email, login_email, username, status,"
        " access_enabled, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (patient_id, email, login_email, username, status, int(access_enabled), utc(now)),
    )
    return int(cursor.lastrowid)


def update_account(cursor: Any, account_id: int, **fields: Any) -> None:
    allowed = {
        "email",
        "login_email",
        "username",
        "password_hash",
        "status",
        "access_enabled",
        "failed_logins",
        "locked_until",
        "activated_at",
        "password_changed_at",
    }
    assert fields and set(fields) <= allowed
    assignments = ", ".join(f"{name} = %s" for name in fields)
    values = [utc(v) if isinstance(v, datetime) else v for v in fields.values()]
    cursor.execute(f"UPDATE portal_accounts SET {assignments} WHERE id = %s", [*values, account_id])


def issue_token(
    cursor: Any,
    account_id: int,
    purpose: str,
    now: datetime,
    valid: timedelta,
    *,
    new_email: str | None = None,
) -> str:
    """A fresh one-time token; earlier unused tokens of the same purpose stop working."""
    cursor.execute(
        "UPDATE portal_tokens SET used_at = %s"
        " WHERE account_id = %s AND purpose = %s AND used_at IS NULL",
        (utc(now), account_id, purpose),
    )
    token, hashed = new_token()
    cursor.execute(
        "INSERT INTO portal_tokens (token_hash, purpose, account_id, new_email, created_at,"
        " expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
        (hashed, purpose, account_id, new_email, utc(now), utc(now + valid)),
    )
    return token


def tokens_issued_since(cursor: Any, account_id: int, purpose: str, since: datetime) -> int:
    """How many tokens of a purpose the account was sent since then, used or not."""
    cursor.execute(
        "SELECT COUNT(*) AS n FROM portal_tokens"
        " WHERE account_id = %s AND purpose = %s AND created_at > %s",
        (account_id, purpose, utc(since)),
    )
    return int(cursor.fetchone()["n"])


def live_token(cursor: Any, token: str, purpose: str, now: datetime) -> dict[str, Any] | None:
    """The unused, unexpired token row, locked: concurrent redemptions queue here and only
    the first finds it still unused."""
    cursor.execute(
        "SELECT id, account_id, new_email, failed_checks FROM portal_tokens"
        " WHERE token_hash = %s AND purpose = %s AND used_at IS NULL AND expires_at > %s"
        " FOR UPDATE",
        (token_hash(token), purpose, utc(now)),
    )
    row: dict[str, Any] | None = cursor.fetchone()
    return row


def token_usable(cursor: Any, token: str, purpose: str, now: datetime) -> bool:
    """Whether live_token would find the token, without locking or using it (a page's GET)."""
    cursor.execute(
        "SELECT 1 FROM portal_tokens"
        " WHERE token_hash = %s AND purpose = %s AND used_at IS NULL AND expires_at > %s",
        (token_hash(token), purpose, utc(now)),
    )
    return cursor.fetchone() is not None


def use_token(cursor: Any, token_id: int, now: datetime) -> None:
    cursor.execute("UPDATE portal_tokens SET used_at = %s WHERE id = %s", (utc(now), token_id))


def redeem_token(
    cursor: Any, store: Patients, token: str, purpose: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Use up a live one-time token: (token row, its account locked for update), or None.
    The row lock in live_token makes concurrent redemptions of one token yield one winner."""
    row = live_token(cursor, token, purpose, now)
    if row is None:
        return None
    account = account_by(cursor, store, "a.id", row["account_id"], lock=True)
    assert account is not None  # the foreign keys guarantee it
    use_token(cursor, row["id"], now)
    return row, account


def count_failed_check(cursor: Any, token_id: int, now: datetime, burn_after: int) -> None:
    cursor.execute(
        # MariaDB assigns left to right: used_at must read failed_checks before it changes.
        "UPDATE portal_tokens SET used_at = IF(failed_checks + 1 >= %s, %s, NULL),"
        " failed_checks = failed_checks + 1 WHERE id = %s",
        (burn_after, utc(now), token_id),
    )


def has_signed_in(cursor: Any, patient_id: int) -> bool:
    """Whether the patient's account has ever been signed in to (the audit trail keeps every
    sign-in; sessions are cleared), i.e. was in use rather than waiting for the office."""
    cursor.execute(
        "SELECT 1 FROM portal_audit WHERE patient_id = %s AND action = 'access.sign_in'"
        " AND outcome = 'ok' LIMIT 1",
        (patient_id,),
    )
    return cursor.fetchone() is not None


def create_session(
    cursor: Any, account_id: int, now: datetime, absolute: timedelta, client_ip: str | None
) -> tuple[str, datetime]:
    token, hashed = new_token()
    expires = now + absolute
    cursor.execute(
        "INSERT INTO portal_sessions (token_hash, account_id, created_at, last_seen_at,"
        " expires_at, client_ip) VALUES (%s, %s, %s, %s, %s, %s)",
        (hashed, account_id, utc(now), utc(now), utc(expires), client_ip),
    )
    return token, expires


def session(cursor: Any, token: str) -> dict[str, Any] | None:
    cursor.execute(
        "SELECT s.id, s.account_id, s.last_seen_at, s.expires_at, a.patient_id,"
        " a.access_enabled, a.status"
        " FROM portal_sessions s JOIN portal_accounts a ON a.id = s.account_id"
        " WHERE s.token_hash = %s AND s.revoked_at IS NULL",
        (token_hash(token),),
    )
    row: dict[str, Any] | None = cursor.fetchone()
    return row


def touch_session(cursor: Any, session_id: int, now: datetime) -> None:
    cursor.execute(
        "UPDATE portal_sessions SET last_seen_at = %s WHERE id = %s", (utc(now), session_id)
    )


def revoke_session(cursor: Any, token: str, now: datetime) -> int | None:
    """Revoke one session; returns its account id (None if there was no such live session)."""
    row = session(cursor, token)
    if row is None:
        return None
    cursor.execute(
        "UPDATE portal_sessions SET revoked_at = %s WHERE id = %s", (utc(now), row["id"])
    )
    return int(row["account_id"])


def revoke_all_sessions(cursor: Any, account_id: int, now: datetime) -> int:
    cursor.execute(
        "UPDATE portal_sessions SET revoked_at = %s WHERE account_id = %s AND revoked_at IS NULL",
        (utc(now), account_id),
    )
    return int(cursor.rowcount)


def all_patients(cursor: Any, store: Patients) -> list[dict[str, Any]]:
    """Every patient with their account state (for invites and the duplicate report)."""
    cursor.execute("SELECT id, patient_id, status, access_enabled FROM portal_accounts")
    accounts = {row["patient_id"]: row for row in cursor.fetchall()}
    rows = []
    for patient in store.patients(cursor):
        account = accounts.get(patient.id, {})
        rows.append(
            {
                "id": patient.id,
                "first_name": patient.first_name,
                "last_name": patient.last_name,
                "email": patient.email,
                "home_zip": patient.home_zip,
                "account_id": account.get("id"),
                "status": account.get("status"),
                "access_enabled": account.get("access_enabled"),
            }
        )
    return rows


def end_unused_tokens(cursor: Any, account_id: int, now: datetime) -> None:
    """Links already mailed (possibly to an address the account no longer has) stop working."""
    cursor.execute(
        "UPDATE portal_tokens SET used_at = %s WHERE account_id = %s AND used_at IS NULL",
        (utc(now), account_id),
    )
