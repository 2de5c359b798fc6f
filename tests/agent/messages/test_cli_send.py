"""`portico-agent messages send`: what staff type, what is stored, and every refusal."""

from __future__ import annotations

import io
import os
import sys

import pytest

from tests.agent.access_fixtures import email_of
from tests.agent.messages.cli_office import STAFF, CliOffice
from tests.support.database import execute

A, B = 1, 2
PDF = b"%PDF-1.4\n% results\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def stored(cli: CliOffice) -> list[int]:
    return [
        cli.query("SELECT COUNT(*) AS n FROM portal_message_threads")[0]["n"],
        cli.query("SELECT COUNT(*) AS n FROM portal_messages")[0]["n"],
        cli.query("SELECT COUNT(*) AS n FROM portal_message_attachments")[0]["n"],
    ]


def test_send_starts_a_thread_with_attachments_and_says_what_it_did(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    body = cli.file("body.txt", "\ufeffDear patient,\n\nYour results are attached.\n")
    code = cli.run(
        "messages", "send", str(A), "--subject", "Lab results", "--body-file", body,
        "--attach", cli.file("results.pdf", PDF), "--attach", cli.file("scan.png", PNG),
        "--from", "Dr. Adams",
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    (thread,) = cli.query("SELECT * FROM portal_message_threads")
    (message,) = cli.query("SELECT * FROM portal_messages")
    assert out[0] == (
        f"message {message['id']} sent to patient {A} in a new thread {thread['id']}, "
        "2 attachment(s)"
    )
    assert out[1].startswith("no email sent: the patient has no active portal account")
    assert (thread["subject"], thread["created_by"], thread["replies_allowed"]) == (
        "Lab results",
        STAFF,
        1,
    )
    assert (message["author"], message["actor"], message["sender"]) == (
        "Dr. Adams",
        STAFF,
        "office",
    )
    assert message["body"] == "Dear patient,\n\nYour results are attached."  # BOM, edges gone
    assert cli.query(
        "SELECT position, filename, content_type, size, data FROM portal_message_attachments"
        " ORDER BY position"
    ) == [
        {"position": 1, "filename": "results.pdf", "content_type": "application/pdf",
         "size": len(PDF), "data": PDF},
        {"position": 2, "filename": "scan.png", "content_type": "image/png",
         "size": len(PNG), "data": PNG},
    ]  # fmt: skip
    assert cli.query("SELECT actor, patient_id, action, outcome FROM portal_audit") == [
        {"actor": STAFF, "patient_id": A, "action": "message.send", "outcome": "ok"}
    ]


def test_the_author_defaults_to_the_practice_s_name(cli: CliOffice) -> None:
    body = cli.file("body.txt", "Hello")
    assert cli.run("messages", "send", str(A), "--subject", "Hi", "--body-file", body) == 0
    assert cli.query("SELECT author FROM portal_messages") == [{"author": "Example Family Clinic"}]


def test_send_with_thread_answers_inside_the_patient_s_thread(cli: CliOffice) -> None:
    body = cli.file("body.txt", "First")
    assert cli.run("messages", "send", str(A), "--subject", "Hi", "--body-file", body) == 0
    (thread,) = cli.query("SELECT id FROM portal_message_threads")
    answer = cli.file("answer.txt", "Second")
    assert cli.run("messages", "send", str(A), "--thread", str(thread["id"]),
                   "--body-file", answer) == 0  # fmt: skip
    assert cli.query("SELECT thread_id, body FROM portal_messages ORDER BY id") == [
        {"thread_id": thread["id"], "body": "First"},
        {"thread_id": thread["id"], "body": "Second"},
    ]


def test_send_with_another_patient_s_thread_is_refused(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    body = cli.file("body.txt", "For B")
    assert cli.run("messages", "send", str(B), "--subject", "Hi", "--body-file", body) == 0
    (thread,) = cli.query("SELECT id FROM portal_message_threads")
    capsys.readouterr()
    assert cli.run("messages", "send", str(A), "--thread", str(thread["id"]),
                   "--body-file", body) == 1  # fmt: skip
    assert capsys.readouterr().err == (
        f"error: thread: patient {A} has no message thread {thread['id']}\n"
    )
    assert stored(cli) == [1, 1, 0]


def test_send_reads_the_body_from_standard_input(
    cli: CliOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Héllo from stdin\n".encode())))
    assert cli.run("messages", "send", str(A), "--subject", "Hi", "--body-file", "-") == 0
    assert cli.query("SELECT body FROM portal_messages") == [{"body": "Héllo from stdin"}]


def test_no_reply_makes_an_announcement(cli: CliOffice) -> None:
    body = cli.file("body.txt", "Closed on Friday.")
    assert cli.run("messages", "send", str(A), "--subject", "Holiday", "--body-file", body,
                   "--no-reply") == 0  # fmt: skip
    assert cli.query("SELECT replies_allowed FROM portal_message_threads") == [
        {"replies_allowed": 0}
    ]


def test_a_patient_with_portal_access_is_told_by_email(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(
        cli.settings,
        "INSERT INTO portal_accounts (patient_id, email, login_email, status, access_enabled,"
        " created_at) VALUES (%s, %s, %s, 'active', 1, '2026-01-01')",
        (A, email_of(A), email_of(A)),
    )
    body = cli.file("body.txt", "Your biopsy is benign.")
    assert cli.run("messages", "send", str(A), "--subject", "Biopsy", "--body-file", body) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        "the patient will get an email saying a message is waiting (no content)"
    )
    (mail,) = cli.query("SELECT to_address, subject, body_text, body_html FROM portal_outbox")
    assert mail["to_address"] == email_of(A)
    assert "biopsy" not in repr(mail).lower() and "benign" not in repr(mail)


def test_an_attachment_over_3_mib_is_refused_before_anything_is_stored(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    big = cli.file("big.pdf", PDF)
    os.truncate(big, 4 * 1024 * 1024)  # sparse: the cap is checked before reading
    body = cli.file("body.txt", "See attached.")
    assert cli.run("messages", "send", str(A), "--subject", "Hi", "--body-file", body,
                   "--attach", big) == 1  # fmt: skip
    assert capsys.readouterr().err == (
        "error: attach: big.pdf: the file is 4.0 MiB; an attachment may be at most 3 MiB\n"
    )
    assert stored(cli) == [0, 0, 0]


def test_every_problem_is_reported_at_once_and_nothing_is_stored(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.run(
        "messages", "send", str(A), "--subject", "two\nlines",
        "--body-file", cli.file("body.txt", "   "),
        "--attach", cli.file("letter.docx", b"PK\x03\x04"),
        "--attach", cli.file("fake.pdf", b"<html>"),
        "--attach", str(cli.files / "missing.pdf"),
    )  # fmt: skip
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: subject: must be one line of text, without control characters",
        "error: body: please write a message",
        "error: attach: letter.docx: only pdf, png, jpg, jpeg or txt files can be attached",
        "error: attach: fake.pdf: the file's content is not application/pdf, as its name says",
        f"error: attach: cannot read {cli.files / 'missing.pdf'}: No such file or directory",
    ]
    assert stored(cli) == [0, 0, 0]


def test_six_attachments_are_refused(cli: CliOffice, capsys: pytest.CaptureFixture[str]) -> None:
    files = [arg for n in range(6) for arg in ("--attach", cli.file(f"p{n}.txt", "page"))]
    body = cli.file("body.txt", "Six pages.")
    assert cli.run("messages", "send", str(A), "--subject", "Hi", "--body-file", body,
                   *files) == 1  # fmt: skip
    assert "error: attach: at most 5 attachments per message (got 6)" in capsys.readouterr().err
    assert stored(cli) == [0, 0, 0]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\xff\xfe not utf-8", "body-file: {path} is not UTF-8 text"),
        ("x" * 5001, "body: at most 5,000 characters (this one has 5,001)"),
    ],
)
def test_a_body_file_that_is_not_a_message_is_refused(
    cli: CliOffice, capsys: pytest.CaptureFixture[str], content: bytes | str, error: str
) -> None:
    body = cli.file("body.txt", content)
    assert cli.run("messages", "send", str(A), "--subject", "Hi", "--body-file", body) == 1
    assert capsys.readouterr().err == f"error: {error.format(path=body)}\n"
    assert stored(cli) == [0, 0, 0]


def test_a_new_thread_needs_a_subject_and_an_answer_takes_none(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    body = cli.file("body.txt", "Hello")
    assert cli.run("messages", "send", str(A), "--body-file", body) == 1
    assert "a new message needs --subject" in capsys.readouterr().err
    assert cli.run("messages", "send", str(A), "--thread", "1", "--subject", "S",
                   "--body-file", body) == 1  # fmt: skip
    assert "leave out --subject" in capsys.readouterr().err
    assert stored(cli) == [0, 0, 0]


def test_a_patient_who_does_not_exist_is_refused_and_audited(
    cli: CliOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    body = cli.file("body.txt", "Hello")
    assert cli.run("messages", "send", "999", "--subject", "Hi", "--body-file", body) == 1
    assert capsys.readouterr().err == "error: patient: there is no patient 999\n"
    assert cli.query("SELECT actor, patient_id, action, outcome FROM portal_audit") == [
        {"actor": STAFF, "patient_id": 999, "action": "message.send", "outcome": "not_found"}
    ]


@pytest.mark.parametrize("patient", ["0", "-1", "abc", "1.5", "٣"])
def test_a_patient_id_must_be_a_positive_whole_number(
    cli: CliOffice, capsys: pytest.CaptureFixture[str], patient: str
) -> None:
    body = cli.file("body.txt", "Hello")
    with pytest.raises(SystemExit) as exited:
        cli.run("messages", "send", patient, "--subject", "Hi", "--body-file", body)
    assert exited.value.code == 2
    assert "a patient id is a positive whole number" in capsys.readouterr().err
