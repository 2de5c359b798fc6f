"""Issue 11, security: no per-account cap on reset emails.

> 50 mails to one address in 2 s from 50 source addresses. Cap per account per hour
> (configurable in `access:` with a sensible default such as 3 per hour, in
> config/agent.example.yaml with a comment; the answer to the browser stays identical when
> capped; audit the suppression; no timing difference).

"No timing difference": the cap is applied where the email is prepared, after the answer
(see test_fix_forgot_password_timing.py), so a capped request is answered exactly as any other.
"""

from __future__ import annotations

from pathlib import Path

from agent.config import Access
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import AccessPractice, access_practice, email_of

P = 12
REQUESTS = 50


async def forgot_from(practice: AccessPractice, ip: str) -> object:
    return await practice.client.request(
        "access.forgot_password",
        {"login": email_of(P)},
        deadline=30,
        client={"ip": ip},
    )


def audit_outcomes(practice: AccessPractice) -> list[tuple[str, str]]:
    rows = practice.query(
        "SELECT outcome, client_ip FROM portal_audit"
        " WHERE action = 'access.forgot_password' AND patient_id = %s ORDER BY id",
        (P,),
    )
    return [(row["outcome"], row["client_ip"]) for row in rows]


async def test_fifty_requests_from_fifty_addresses_send_three_emails_an_hour(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with access_practice(practice_db, link_keys) as practice:
        await practice.set_password(P, "the-real-password-of-pat12")
        ips = [f"198.51.100.{n}" for n in range(1, REQUESTS + 1)]
        answers = {repr(await forgot_from(practice, ip)) for ip in ips}
        assert len(answers) == 1  # capped or not, the same answer

        sent = await practice.deliver()
        assert [m.rcpt_tos for m in sent] == [[email_of(P)]] * 3
        outcomes = audit_outcomes(practice)
        assert [ip for _, ip in outcomes] == ips
        assert [outcome for outcome, _ in outcomes] == ["sent"] * 3 + ["capped"] * 47

        practice.advance(minutes=59)
        await forgot_from(practice, "192.0.2.1")
        assert await practice.deliver() == []
        practice.advance(minutes=1, seconds=1)  # the first three are now over an hour old
        await forgot_from(practice, "192.0.2.2")
        assert [m.rcpt_tos for m in await practice.deliver()] == [[email_of(P)]]
        assert [outcome for outcome, _ in audit_outcomes(practice)[-2:]] == ["capped", "sent"]
    assert Access().reset_emails_per_hour == 3  # the default, which this test relied on


async def test_the_cap_is_configurable(practice_db: DatabaseSettings, link_keys: Path) -> None:
    async with access_practice(
        practice_db, link_keys, access={"reset_emails_per_hour": 1}
    ) as practice:
        await practice.set_password(P, "the-real-password-of-pat12")
        for n in range(4):
            await forgot_from(practice, f"198.51.100.{n + 1}")
        assert len(await practice.deliver()) == 1
        assert [outcome for outcome, _ in audit_outcomes(practice)] == ["sent"] + ["capped"] * 3
