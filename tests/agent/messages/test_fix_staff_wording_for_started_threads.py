"""Journey review after issue 11: staff tools still call every patient message a "reply".

Since patients can start conversations, a thread's first message may be the patient's own:
`messages show` printed "2 patient replies marked read" for a question and its follow-up, and
`messages list` headed the count "unread replies". The words now cover both.
"""

from __future__ import annotations

import pytest

from tests.agent.messages.cli_office import CliOffice

A = 1


def test_a_patient_started_thread_is_counted_as_messages_not_replies(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    thread_id = cli.patient_starts(A, "Billing", "Question about my bill", "Why two charges?")
    cli.patient_replies(A, thread_id, "And a third one today.")

    assert cli.run("messages", "list") == 0
    header = capsys.readouterr().out.splitlines()[0].split("\t")
    assert "unread from patient" in header and "unread replies" not in header

    assert cli.run("messages", "show", str(thread_id)) == 0
    assert capsys.readouterr().err == "2 patient messages marked read\n"
    assert cli.run("messages", "show", str(thread_id)) == 0
    assert capsys.readouterr().err == "0 patient messages marked read\n"
