"""Security review of issue 11's registration fix (item 2 of the issue, "offer activation of the
existing one by email, without telling the browser whether a chart matched").

> `/register` now matches existing charts (name/DOB/zip). The HTTP answer is identical, but
> does the work before answering differ (match vs no match: extra queries, an email rendered,
> a different outbox/table write)? Being a patient of a practice is itself PHI.

It did: a sign-up that matched a chart under another address rendered a "call the office"
email and wrote no registration row, one whose address already had an account wrote only an
audit row, and a new person got a registration row and a rendered verification email. So the
answer's timing told whether someone is a patient here. As for "forgot password"
(tests/agent/access/test_fix_forgot_password_timing.py), no wall-clock bound: every kind of sign-up
must leave the same trace before the answer (one queued row, no mail, no audit, no chart), and
the matching and the email come from the mail worker afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from tests.agent.access.test_fix_forgot_password_timing import row_counts
from tests.agent.access.test_fix_registration_duplicates import (
    SELF_REGISTRATION,
    ZOE_EMAIL,
    add_zoe,
    patient_count,
    sign_up,
)
from tests.agent.access_fixtures import (
    AccessPractice,
    access_practice,
    email_of,
    link_token,
    text_of,
)

NEW_PERSON = "new.person@example.org"
ZOE_ELSEWHERE = "zoe.elsewhere@example.org"
P = 9


async def growth(practice: AccessPractice, **params: Any) -> dict[str, int]:
    before = {**row_counts(practice), "patients": patient_count(practice)}
    answer = await practice.call("access.register", **sign_up(**params))
    assert answer["status"] == "check_email"
    after = {**row_counts(practice), "patients": patient_count(practice)}
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


async def test_every_kind_of_sign_up_does_the_same_database_work_before_answering(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys, access=SELF_REGISTRATION) as practice:
        zoe = add_zoe(practice)
        await practice.set_password(P, "the-real-password-of-pat9")
        # The agent's own mail worker would race with the row counts: deliver by hand only.
        practice.agent._stop_mail.set()
        assert practice.agent._mail_task is not None
        await practice.agent._mail_task

        kinds = {
            "new person": await growth(
                practice, first_name="Nadia", last_name="Newcomer", email=NEW_PERSON
            ),
            "her own chart": await growth(practice),
            "chart under another address": await growth(practice, email=ZOE_ELSEWHERE),
            "address with an account": await growth(
                practice, first_name="Otto", last_name="Other", email=email_of(P)
            ),
        }
        first = kinds["new person"]
        assert all(trace == first for trace in kinds.values()), kinds
        assert first == {"portal_registrations": 1}, first  # queued, nothing else

        # Afterwards the worker does what each sign-up needs, once.
        mails = {m.rcpt_tos[0]: m for m in await practice.deliver()}
        assert sorted(mails) == sorted([NEW_PERSON, ZOE_EMAIL, ZOE_ELSEWHERE])
        link_token(mails[NEW_PERSON], "/verify")
        link_token(mails[ZOE_EMAIL], "/verify")
        assert "/verify" not in text_of(mails[ZOE_ELSEWHERE])
        assert await practice.deliver() == []
        outcomes = practice.query(
            "SELECT patient_id, outcome, client_ip FROM portal_audit"
            " WHERE action = 'access.register' ORDER BY id"
        )
        assert outcomes == [
            {"patient_id": None, "outcome": "pending", "client_ip": "203.0.113.7"},
            {"patient_id": zoe, "outcome": "pending_existing_chart", "client_ip": "203.0.113.7"},
            {"patient_id": zoe, "outcome": "match_needs_office", "client_ip": "203.0.113.7"},
            {"patient_id": None, "outcome": "duplicate_email", "client_ip": "203.0.113.7"},
        ]
        # Only the two sign-ups with a link still wait (for their link to be opened).
        assert practice.query("SELECT COUNT(*) AS n FROM portal_registrations") == [{"n": 2}]
