"""What a value of `access.identity` means for the accounts that exist already.

An account keeps signing in the way it was made (its email address, or its username) when the
office switches `access.identity`; the setting governs what new accounts choose (issue 11).
`config validate` and a reload say how many existing accounts sign in the other way, so an
office switching sees at once whom it concerns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pymysql

if TYPE_CHECKING:
    from agent.config import AgentConfig

# Accounts whose login is the email address / whose only login is a username.
_COUNT = (
    "SELECT COALESCE(SUM(login_email IS NOT NULL), 0) AS email,"
    " COALESCE(SUM(login_email IS NULL AND username IS NOT NULL), 0) AS username"
    " FROM portal_accounts"
)


def count_other_logins(cursor: Any, identity: str) -> int:
    """How many accounts sign in the way `identity` does not (dict or tuple cursor)."""
    cursor.execute(_COUNT)
    row = cursor.fetchone()
    email, username = (row["email"], row["username"]) if isinstance(row, dict) else row
    return int(username if identity == "email" else email)


def identity_meaning(identity: str, others: int) -> str:
    """Plain words for office IT: who signs in how under this setting. With no account the
    other way there is nothing to warn about, and "0 existing accounts" read as a problem."""
    if others == 0:
        how = "their email address" if identity == "email" else "a username"
        return f"access.identity is {identity}: accounts sign in with {how}"
    accounts = "account signs" if others == 1 else "accounts sign"
    if identity == "email":
        return (
            f"access.identity is email: {others} existing {accounts} in with a username and "
            "will keep doing so; new accounts sign in with their email address"
        )
    return (
        f"access.identity is username: {others} existing {accounts} in with an email address "
        "and will keep doing so; new accounts choose a username"
    )


def identity_note(config: AgentConfig) -> str:
    """The line `config validate` prints about access.identity; asks the database (one short
    query) and says so plainly when it cannot, without failing the validation."""
    db = config.database
    try:
        password = db.password_value()
    except OSError as exc:
        return _not_counted(f"cannot read {db.password_file}: {exc.strerror or exc}")
    try:
        connection = pymysql.connect(
            host=db.host,
            port=db.port,
            user=db.user,
            password=password,
            database=db.name,
            connect_timeout=min(db.connect_timeout_seconds, 5),
            read_timeout=min(db.read_timeout_seconds, 10),
        )
        with connection, connection.cursor() as cursor:
            others = count_other_logins(cursor, config.access.identity)
    except pymysql.MySQLError as exc:
        return _not_counted(f"the database did not answer: {exc.args[-1] if exc.args else exc}")
    return identity_meaning(config.access.identity, others)


def _not_counted(reason: str) -> str:
    return (
        f"could not count the accounts that access.identity concerns ({reason}); existing "
        "accounts keep signing in as they did either way"
    )
