"""Issue 11, security: forgot-password timing.

> forgot-password answers 1.1-2.1 ms slower for existing accounts (median over 5 runs of
> 50-100 pairs, 95% of existing slower than the 90th percentile of unknown). Make the two
> paths do the same work before answering (e.g. all mail work deferred to the outbox in both).

No wall-clock bound here (tests/agent/access/test_access_enumeration.py measures the time):
this test checks the cause instead. Before the answer, a request for an existing account and
one for an unknown login must leave the same trace in the database (every portal_* table grows
by the same number of rows), and no mail work at all may have been done; the email only comes
when the outbox worker runs."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import AccessPractice, access_practice, email_of, link_token

P = 9
EXISTING = email_of(P)
UNKNOWN = "pat9x@example.org"


def row_counts(practice: AccessPractice) -> dict[str, int]:
    tables = practice.query(
        "SELECT table_name AS name FROM information_schema.tables"
        " WHERE table_schema = DATABASE() AND table_name LIKE 'portal\\_%%'"
    )
    return {
        t["name"]: practice.query(f"SELECT COUNT(*) AS n FROM `{t['name']}`")[0]["n"]
        for t in tables
    }


async def growth(practice: AccessPractice, login: str) -> dict[str, int]:
    before = row_counts(practice)
    answer = await practice.call("access.forgot_password", login=login)
    assert answer["status"] == "check_email"
    after = row_counts(practice)
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


async def test_existing_and_unknown_do_the_same_database_work_before_answering(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys) as practice:
        await practice.set_password(P, "the-real-password-of-pat9")
        # The agent's own mail worker would race with the row counts: deliver by hand only.
        practice.agent._stop_mail.set()
        assert practice.agent._mail_task is not None
        await practice.agent._mail_task

        existing = await growth(practice, EXISTING)
        unknown = await growth(practice, UNKNOWN)
        assert existing == unknown
        assert sum(existing.values()) == 1, existing  # one queued request, nothing else
        assert "portal_outbox" not in existing and "portal_tokens" not in existing

        # The mail work happens later, off the request path, and only for the real account.
        [mail] = await practice.deliver()
        assert mail.rcpt_tos == [EXISTING]
        link_token(mail, "/reset")
        outcomes = practice.query(
            "SELECT patient_id, outcome, client_ip FROM portal_audit"
            " WHERE action = 'access.forgot_password' ORDER BY id"
        )
        assert outcomes == [
            {"patient_id": P, "outcome": "sent", "client_ip": "203.0.113.7"},
            {"patient_id": None, "outcome": "no_account", "client_ip": "203.0.113.7"},
        ]
        assert await practice.deliver() == []  # each request is answered once
