"""Issue 11: "`email change` (staff) changes at once and prints its privacy reminder
afterwards, with the words "seed 004": ask for confirmation first (or `--yes`), verify the new
address as the patient flow does, never mention internal names."

The command runs as staff run it: the installed `portico-agent` in a child process, with its
standard input a real pseudo-terminal (answered y or n) or no terminal at all; and in-process
with --yes. The confirmation link is read out of the mail a real SMTP server received.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.access.staff_office import ACTIVE, Office
from tests.agent.access.staff_office import office as office
from tests.agent.access_fixtures import email_of, link_token
from tests.support.database import execute, query

NEW = "pat6.new@example.org"
AGENT = str(Path(sys.executable).with_name("portico-agent"))
INTERNAL = ("seed", "004", "access.", "portal_", "Traceback")


def _on_file(office: Office) -> list[dict[str, object]]:
    return query(
        office.settings,
        "SELECT p.email, a.email AS account_email, a.login_email FROM patients p"
        " JOIN portal_accounts a ON a.patient_id = p.id WHERE p.id = %s",
        (ACTIVE,),
    )


UNCHANGED = [{"email": email_of(ACTIVE), "account_email": email_of(ACTIVE),
              "login_email": email_of(ACTIVE)}]  # fmt: skip


def _staff_rows(office: Office) -> list[tuple[object, ...]]:
    rows = query(
        office.settings,
        "SELECT actor, action, outcome FROM portal_audit WHERE patient_id = %s ORDER BY id",
        (ACTIVE,),
    )
    return [(r["actor"].split(":")[0], r["action"], r["outcome"]) for r in rows]


def _at_a_terminal(office: Office, answer: str) -> tuple[int, str, str]:
    """Run the command with a pseudo-terminal as its input, answer the question; (status,
    what it printed, what it printed on stderr)."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode() + b"\n")
        done = subprocess.run(
            [AGENT, "email", "change", str(ACTIVE), NEW, "--config", office.config],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    return done.returncode, done.stdout, done.stderr


def _without_internal_names(text: str) -> None:
    for word in INTERNAL:
        assert word not in text, f"{word!r} in {text!r}"


def test_without_a_terminal_or_yes_nothing_changes(office: Office) -> None:
    done = subprocess.run(
        [AGENT, "email", "change", str(ACTIVE), NEW, "--config", office.config],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--yes" in done.stderr
    assert "only" in done.stderr  # the privacy reminder is shown even so
    _without_internal_names(done.stdout + done.stderr)
    assert _on_file(office) == UNCHANGED
    assert office.deliver() == []
    assert _staff_rows(office) == []


def test_answering_no_at_the_terminal_changes_nothing(office: Office) -> None:
    status, out, err = _at_a_terminal(office, "n")
    assert status == 1
    _without_internal_names(out + err)
    assert _on_file(office) == UNCHANGED
    assert office.deliver() == []


def test_yes_at_the_terminal_sends_a_confirmation_link_first(office: Office) -> None:
    status, out, err = _at_a_terminal(office, "y")
    assert status == 0, err
    _without_internal_names(out + err)
    # The reminder comes before the question; the result follows the answer.
    assert err.index("only the patient reads mail") < err.index("[y/N]")
    assert out.startswith("a confirmation link was sent to p***@example.org")
    assert _on_file(office) == UNCHANGED
    assert office.deliver() == [[NEW]]


def test_with_yes_the_address_changes_only_when_the_link_is_opened(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(
        office.settings,
        "INSERT INTO portal_sessions (token_hash, account_id, created_at, last_seen_at,"
        " expires_at) SELECT REPEAT('a', 64), id, UTC_TIMESTAMP(), UTC_TIMESTAMP(),"
        " UTC_TIMESTAMP() + INTERVAL 1 HOUR FROM portal_accounts WHERE patient_id = %s",
        (ACTIVE,),
    )
    assert office.run("email", "change", str(ACTIVE), NEW, "--yes") == 0
    captured = capsys.readouterr()
    _without_internal_names(captured.out + captured.err)
    assert "p***@example.org" in captured.out
    assert _on_file(office) == UNCHANGED
    assert _staff_rows(office) == [("staff", "access.change_email", "confirmation_sent")]
    live = "SELECT COUNT(*) AS n FROM portal_sessions WHERE revoked_at IS NULL"
    assert query(office.settings, live) == [{"n": 1}]

    assert office.deliver() == [[NEW]]  # the old address hears nothing yet
    token = link_token(office.relay.received[-1], "/confirm-email")
    assert office.confirm_email_change(token) == {"changed": True}

    assert _on_file(office) == [{"email": NEW, "account_email": NEW, "login_email": NEW}]
    assert query(office.settings, live) == [{"n": 0}]
    assert office.deliver() == [[email_of(ACTIVE)]]  # now the old address is told
    assert _staff_rows(office) == [
        ("staff", "access.change_email", "confirmation_sent"),
        ("patient", "access.email_changed", "ok"),
    ]
