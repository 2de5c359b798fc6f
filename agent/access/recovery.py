""" "Forgot password", in two halves so that the answer cannot tell whether an account exists.

The request half (:func:`queue_request`, on the link's request path) writes one row to
portal_reset_requests and nothing else, for every login alike: no account lookup, no token, no
template rendering, no outbox row. Timing the answer therefore says nothing about the login
(issue 11: the old single pass answered 1-2 ms later for existing accounts).

The answer half (:func:`answer_requests`) runs in the outbox worker before it delivers: it
looks each login up, applies the hourly per-account cap, and queues the reset email in the
same transaction that deletes the request, with one audit row per request either way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agent import audit
from agent.access import queries as q
from agent.access.context import AccessContext

RESET_VALID = timedelta(hours=1)
CAP_WINDOW = timedelta(hours=1)
BATCH = 50


def queue_request(cursor: Any, login: str | None, client_ip: str | None, now: datetime) -> None:
    """The only work done before answering; `login` is normalised, or None if it cannot be
    an email address or a username (still queued: that request must cost the same)."""
    cursor.execute(
        "INSERT INTO portal_reset_requests (login, client_ip, requested_at) VALUES (%s, %s, %s)",
        (login, client_ip, q.utc(now)),
    )


def answer_requests(cursor: Any, access: AccessContext, now: datetime) -> int:
    """Answer up to BATCH waiting requests; returns how many. SKIP LOCKED lets several
    workers share the queue without waiting on each other."""
    cursor.execute(
        "SELECT id, login, client_ip, requested_at FROM portal_reset_requests"
        " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
        (BATCH,),
    )
    rows = list(cursor.fetchall())
    for row in rows:
        _answer(cursor, access, row, now)
    if rows:
        placeholders = ", ".join(["%s"] * len(rows))
        cursor.execute(
            f"DELETE FROM portal_reset_requests WHERE id IN ({placeholders})",
            [row["id"] for row in rows],
        )
    return len(rows)


def _answer(cursor: Any, access: AccessContext, request: dict[str, Any], now: datetime) -> None:
    login = request["login"]
    account = None if login is None else q.account_by(cursor, access.store, *q.login_column(login))
    if account is None or not account["access_enabled"] or not account["email"]:
        outcome = "no_account"
    else:
        # Locked: two workers answering requests for one account count one after the other.
        q.account_by(cursor, access.store, "a.id", account["id"], lock=True)
        since = now - CAP_WINDOW
        if q.tokens_issued_since(cursor, account["id"], "reset_password", since) >= (
            access.rules.reset_emails_per_hour
        ):
            # Someone asking again and again (from many addresses) must not flood a
            # patient's mailbox; the links already sent still work.
            outcome = "capped"
        else:
            token = q.issue_token(cursor, account["id"], "reset_password", now, RESET_VALID)
            mail = access.mail.reset_password(
                to=account["email"], first_name=account["first_name"], token=token
            )
            access.send(cursor, mail, now)
            outcome = "sent"
    audit.record(
        cursor,
        now=request["requested_at"],
        actor=f"patient:{account['patient_id']}" if account else "anonymous",
        patient_id=account["patient_id"] if account else None,
        action="access.forgot_password",
        outcome=outcome,
        client_ip=request["client_ip"],
    )
