"""`portico-agent messages list` and `messages show`: staff find patient replies they have not
read, read them (which marks them read), and are never at the mercy of what a patient typed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.cli import main
from tests.agent.messages.cli_office import STAFF, CliOffice
from tests.agent.messages.seeding import send_office_message
from tests.support.practice import NOW

A, B = 1, 2
HEADER = (
    "thread\tpatient\tname\tlast message\tlast from\tmessages\tunread from patient\ttopic\tsubject"
)


def two_threads(cli: CliOffice) -> tuple[int, int]:
    """A's thread with a reply (newest), B's thread without one."""
    b_thread = send_office_message(
        cli.settings, B, "Flu shots", "Available.", now=NOW - timedelta(hours=2)
    )
    a_thread = send_office_message(
        cli.settings, A, "Lab results", "In.", now=NOW - timedelta(hours=3)
    )
    cli.patient_replies(A, a_thread, "Thanks, what does it mean?")
    return a_thread, b_thread


def test_list_prints_every_thread_newest_first(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    a_thread, b_thread = two_threads(cli)
    assert cli.run("messages", "list") == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        HEADER,
        f"{a_thread}\t{A}\tPat1 Example\t2026-11-23 07:00 -05:00\tpatient\t2\t1\t-\tLab results",
        f"{b_thread}\t{B}\tPat2 Example\t2026-11-23 05:00 -05:00\toffice\t1\t0\t-\tFlu shots",
    ]
    assert captured.err == "2 thread(s)\n"


def test_list_unread_shows_only_threads_with_replies_staff_have_not_read(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    a_thread, _ = two_threads(cli)
    assert cli.run("messages", "list", "--unread") == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split("\t")[0] for row in rows] == [str(a_thread)]

    assert cli.run("messages", "show", str(a_thread)) == 0
    capsys.readouterr()
    assert cli.run("messages", "list", "--unread") == 0
    assert capsys.readouterr().out.splitlines() == [HEADER]


def test_list_for_one_patient(cli: CliOffice, capsys: pytest.CaptureFixture[str]) -> None:
    _, b_thread = two_threads(cli)
    assert cli.run("messages", "list", "--patient", str(B)) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split("\t")[0] for row in rows] == [str(b_thread)]


def test_show_prints_the_thread_and_marks_the_replies_read_once(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    thread_id = send_office_message(
        cli.settings,
        A,
        "Lab results",
        "Your results are in.",
        [("results.pdf", b"%PDF-1.4\n")],
        author="Dr. Adams",
        now=NOW - timedelta(hours=1),
    )
    reply_id = cli.patient_replies(A, thread_id, "Thanks!\nSee you soon.")
    (office_message,) = cli.query("SELECT id FROM portal_messages WHERE sender = 'office'")
    (attachment,) = cli.query("SELECT id FROM portal_message_attachments")

    assert cli.run("messages", "show", str(thread_id)) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"thread {thread_id}: Lab results",
        f"patient {A}: Pat1 Example",
        "replies allowed: yes",
        "",
        f"--- message {office_message['id']}, from the office (Dr. Adams), 2026-11-23 06:00 -05:00",
        "Your results are in.",
        f"attachment {attachment['id']}: results.pdf (application/pdf, 9 bytes)",
        "",
        f"--- message {reply_id}, from the patient (Pat1 Example), 2026-11-23 07:00 -05:00 [new]",
        "Thanks!",
        "See you soon.",
    ]
    assert captured.err == "1 patient message marked read\n"

    assert cli.run("messages", "show", str(thread_id)) == 0
    captured = capsys.readouterr()
    assert "[new]" not in captured.out
    assert captured.err == "0 patient messages marked read\n"


def test_show_makes_terminal_control_sequences_in_a_reply_visible_and_harmless(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    thread_id = send_office_message(cli.settings, A, "Hello", "Hi.")
    cli.patient_replies(A, thread_id, "ok\x1b[2J\x1b]0;pwned\x07\rgone\u202eevil\r\nnext")
    assert cli.run("messages", "show", str(thread_id)) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "ok\\x1b[2J\\x1b]0;pwned\\x07\\x0dgone\\u202eevil\nnext" in out


def test_show_and_list_are_audited_with_the_staff_actor(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    a_thread, _ = two_threads(cli)
    assert cli.run("messages", "list", "--unread") == 0
    assert cli.run("messages", "show", str(a_thread)) == 0
    assert cli.query(
        "SELECT patient_id, action, outcome, detail FROM portal_audit"
        " WHERE actor = %s ORDER BY id",
        (STAFF,),
    ) == [
        {"patient_id": A, "action": "message.list", "outcome": "ok",
         "detail": "threads:1 unread"},
        {"patient_id": A, "action": "message.staff_read", "outcome": "ok",
         "detail": f"thread:{a_thread}"},
    ]  # fmt: skip


def test_show_of_a_missing_thread_is_refused_and_audited(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run("messages", "show", "77") == 1
    assert capsys.readouterr().err == "error: thread: there is no message thread 77\n"
    assert cli.query(
        "SELECT actor, patient_id, action, outcome, detail FROM portal_audit"
    ) == [
        {"actor": STAFF, "patient_id": None, "action": "message.staff_read",
         "outcome": "not_found", "detail": "thread:77"},
    ]  # fmt: skip


def test_messages_without_a_command_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["messages"]) == 0
    out = capsys.readouterr().out
    assert "send" in out and "list" in out and "show" in out
