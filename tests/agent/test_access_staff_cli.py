"""The staff commands of `portico-agent` (seeds 002, 004), run through agent.cli.main with a
config file, against the real database; the invitations they queue go out through the agent's
outbox to a real SMTP server and are counted there."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.cli import main
from agent.clock import FixedClock
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import (
    access_config,
    config_dict,
    email_of,
    execute,
    mail_relay,
    query,
    write_config_file,
)
from tests.agent.mail.smtp_server import RecordingHandler
from tests.agent.practice import PATIENTS
from tests.agent.practice import cheap_hasher as cheap_hasher

SHARED_RAW = ("Ann.Lee@Example.org ", "ann.lee@example.org")  # patients 2 and 3
NO_EMAIL, NO_ZIP, ACTIVE, BAD_EMAIL = 4, 5, 6, 7


@dataclass
class Office:
    settings: DatabaseSettings
    keys: Path
    config: str
    relay: RecordingHandler
    port: int

    def run(self, *argv: str) -> int:
        return main([*argv, "--config", self.config])

    def deliver(self) -> list[list[str]]:
        """Send what the CLI queued, through the agent's outbox; the recipients received."""

        async def send_all() -> None:
            # The CLI stamps mail with the system clock; the agent's clock is a minute later.
            clock = FixedClock(datetime.now(UTC) + timedelta(minutes=1))
            config = access_config(self.settings, self.keys, self.port)
            agent = Agent.build(config, clock=clock, hasher=cheap_hasher())
            try:
                while await agent.outbox.run_once():
                    pass
            finally:
                agent.methods.access.hasher.close()
                await agent.db.close()

        before = len(self.relay.received)
        asyncio.run(send_all())
        return [message.rcpt_tos for message in self.relay.received[before:]]


@pytest.fixture
def office(practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path) -> Iterator[Office]:
    """The small practice, made untidy: a shared (differently typed) email, a patient with no
    email, one with no zip, one with an active account, one with an unusable address."""
    settings = practice_db
    for patient, raw in zip((2, 3), SHARED_RAW, strict=True):
        execute(settings, "UPDATE patients SET email = %s WHERE id = %s", (raw, patient))
    execute(settings, "UPDATE patients SET email = NULL WHERE id = %s", (NO_EMAIL,))
    execute(settings, "UPDATE patients SET home_zip = NULL WHERE id = %s", (NO_ZIP,))
    execute(settings, "UPDATE patients SET email = 'not-an-address' WHERE id = %s", (BAD_EMAIL,))
    execute(
        settings,
        "INSERT INTO portal_accounts (patient_id, email, login_email, status, access_enabled,"
        " created_at) VALUES (%s, %s, %s, 'active', 1, '2026-01-01')",
        (ACTIVE, email_of(ACTIVE), email_of(ACTIVE)),
    )
    with mail_relay() as (handler, port):
        path = write_config_file(
            tmp_path / "agent.yaml",
            config_dict(settings, link_keys, port, access={"activate_without_confirmation": True}),
        )
        yield Office(settings, link_keys, path, handler, port)


INVITED = sorted(set(range(1, PATIENTS + 1)) - {2, 3, NO_EMAIL, NO_ZIP, ACTIVE, BAD_EMAIL})


def test_invite_all_prints_counts_lists_duplicates_and_sends_exactly_the_invitations(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    assert office.run("invite", "--all") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"invitations sent: {len(INVITED)}"
    assert "already have an active account: 1" in out
    assert "no home zip code on file: 1" in out
    assert "skipped, email shared with another patient: 2" in out
    assert "  ann.lee@example.org: patients 2, 3" in out

    assert sorted(office.deliver()) == sorted([[email_of(p)] for p in INVITED])
    assert query(
        office.settings,
        "SELECT COUNT(*) AS n FROM portal_audit WHERE actor LIKE 'staff:%%'"
        " AND action = 'access.invite'",
    ) == [{"n": len(INVITED)}]

    # Run again: the same patients are invited again (nobody has activated), nobody else.
    assert office.run("invite", "--all") == 0
    assert capsys.readouterr().out.splitlines()[0] == f"invitations sent: {len(INVITED)}"
    assert sorted(office.deliver()) == sorted([[email_of(p)] for p in INVITED])


def test_invite_all_accounts_for_every_patient(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    """A patient with no email at all is a patient with no valid email on file: the counts
    the office reads add up to its patient list."""
    assert office.run("invite", "--all") == 0
    out = capsys.readouterr().out.splitlines()
    assert "no valid email on file: 2" in out  # patient 4 (none) and 7 (unusable)
    counts = [int(line.rpartition(": ")[2]) for line in out[:5]]
    assert sum(counts) == PATIENTS


def test_access_enable_refuses_without_email_or_zip(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    assert office.run("access", "enable", str(NO_EMAIL)) == 1
    err = capsys.readouterr().err
    assert (
        f"error: cannot enable access for patient {NO_EMAIL}: needs a valid email address on file"
        in err
    )
    assert office.run("access", "enable", str(NO_ZIP)) == 1
    err = capsys.readouterr().err
    assert f"error: cannot enable access for patient {NO_ZIP}: needs a home zip code on file" in err
    execute(office.settings, "UPDATE patients SET home_zip = '' WHERE id = %s", (NO_EMAIL,))
    assert office.run("access", "enable", str(NO_EMAIL)) == 1
    assert "needs a valid email address and a home zip code on file" in capsys.readouterr().err
    assert query(
        office.settings,
        "SELECT COUNT(*) AS n FROM portal_accounts WHERE patient_id IN (%s, %s)",
        (NO_EMAIL, NO_ZIP),
    ) == [{"n": 0}]

    assert office.run("access", "enable", "9") == 0
    assert capsys.readouterr().out.startswith("access enabled")
    assert query(
        office.settings, "SELECT access_enabled FROM portal_accounts WHERE patient_id = 9"
    ) == [{"access_enabled": 1}]
    assert office.run("access", "disable", "9") == 0
    assert capsys.readouterr().out == "access disabled; 0 session(s) ended\n"
    assert office.deliver() == []  # enabling and disabling mail nobody


def test_patients_duplicates_reports_normalised_duplicates(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    assert office.run("patients", "duplicates") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 email address(es) shared by more than one patient:"
    assert out[1] == "ann.lee@example.org"
    assert out[2].startswith("  patient 2: Pat2 Example, on file as 'Ann.Lee@Example.org '")
    assert out[3].startswith("  patient 3: Pat3 Example, on file as 'ann.lee@example.org'")
    assert len(out) == 4

    assert office.run("email", "change", "2", "Ann.Lee+2@Example.org") == 0
    assert capsys.readouterr().out.startswith("email changed")
    assert office.run("patients", "duplicates") == 0
    assert capsys.readouterr().out == "no two patients share an email address\n"
    assert query(office.settings, "SELECT email FROM patients WHERE id = 2") == [
        {"email": "ann.lee+2@example.org"}
    ]


def test_email_change_tells_the_old_address_and_audit_lists_the_patient_s_rows(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(
        office.settings,
        "INSERT INTO portal_sessions (token_hash, account_id, created_at, last_seen_at,"
        " expires_at) SELECT REPEAT('a', 64), id, UTC_TIMESTAMP(), UTC_TIMESTAMP(),"
        " UTC_TIMESTAMP() + INTERVAL 1 HOUR FROM portal_accounts WHERE patient_id = %s",
        (ACTIVE,),
    )
    assert office.run("email", "change", str(ACTIVE), "pat6.new@example.org") == 0
    captured = capsys.readouterr()
    assert captured.out == (
        "email changed; the patient's sessions were ended and the old address told\n"
    )
    assert "Privacy check" in captured.err
    assert office.deliver() == [[email_of(ACTIVE)]]
    assert query(
        office.settings,
        "SELECT COUNT(*) AS n FROM portal_sessions WHERE revoked_at IS NULL",
    ) == [{"n": 0}]
    assert office.run("invite", "10") == 0
    assert capsys.readouterr().out == "invitation sent to p***@example.org\n"
    assert office.deliver() == [[email_of(10)]]
    assert office.run("email", "change", "10", "PAT6.new@example.org") == 1
    assert "error: that address is already another account's login" in capsys.readouterr().err

    assert office.run("audit", "--patient", str(ACTIVE)) == 0
    captured = capsys.readouterr()
    rows = [line.split("\t") for line in captured.out.splitlines()]
    assert len(rows) == 1
    occurred_at, actor, patient, action, outcome, client_ip, detail = rows[0]
    assert actor.startswith("staff:")
    assert (patient, action, outcome, client_ip, detail) == (
        str(ACTIVE),
        "access.email_changed",
        "ok",
        "-",
        "-",
    )
    assert abs(datetime.fromisoformat(occurred_at) - datetime.now(UTC).replace(tzinfo=None)) < (
        timedelta(minutes=5)
    )
    assert "1 row(s) (times are UTC)" in captured.err
