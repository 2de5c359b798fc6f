"""The staff commands of `portico-agent` (seeds 002, 004), run through agent.cli.main with a
config file, against the real database; the invitations they queue go out through the agent's
outbox to a real SMTP server and are counted there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.agent.access.staff_office import ACTIVE, BAD_EMAIL, NO_EMAIL, NO_ZIP, Office
from tests.agent.access.staff_office import office as office
from tests.agent.access_fixtures import email_of, link_token
from tests.support.database import execute, query
from tests.support.practice import PATIENTS

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

    assert office.run("email", "change", "2", "Ann.Lee+2@Example.org", "--yes") == 0
    assert capsys.readouterr().out.startswith("address changed on file")
    assert office.run("patients", "duplicates") == 0
    assert capsys.readouterr().out == "no two patients share an email address\n"
    assert query(office.settings, "SELECT email FROM patients WHERE id = 2") == [
        {"email": "ann.lee+2@example.org"}
    ]


def test_email_change_refuses_another_login_and_audit_lists_the_patient_s_rows(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    assert office.run("email", "change", str(ACTIVE), "pat6.new@example.org", "--yes") == 0
    assert capsys.readouterr().out.startswith("a confirmation link was sent to p***@example.org")
    assert office.deliver() == [["pat6.new@example.org"]]
    token = link_token(office.relay.received[-1], "/confirm-email")
    assert office.confirm_email_change(token) == {"changed": True}
    assert office.deliver() == [[email_of(ACTIVE)]]
    assert office.run("invite", "10") == 0
    assert capsys.readouterr().out == "invitation sent to p***@example.org\n"
    assert office.deliver() == [[email_of(10)]]
    assert office.run("email", "change", "10", "PAT6.new@example.org", "--yes") == 1
    assert "error: that address is already another account's login" in capsys.readouterr().err

    assert office.run("audit", "--patient", str(ACTIVE)) == 0
    captured = capsys.readouterr()
    header, *rows = [line.split("\t") for line in captured.out.splitlines()]
    assert header[1] == "time (America/New_York)"
    assert [(row[2].split(":")[0], row[3], row[4], row[5]) for row in rows] == [
        ("staff", str(ACTIVE), "access.change_email", "confirmation_sent"),
        ("patient", str(ACTIVE), "access.email_changed", "ok"),
    ]
    occurred_at = rows[0][1]
    assert abs(datetime.fromisoformat(occurred_at) - datetime.now(UTC)) < timedelta(minutes=5)
    assert "2 row(s); times are America/New_York time" in captured.err
