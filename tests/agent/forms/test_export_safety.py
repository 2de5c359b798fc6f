"""`forms answers` keeps exported PHI private and the staff terminal safe.

--output replaces the file with a new owner-only one instead of writing through an existing
file's permissions or a symbolic link; answers on stdout show control and format characters
(ESC, the C1 CSI U+009B, U+202E RIGHT-TO-LEFT OVERRIDE) as escapes instead of sending them to
the terminal. Sent answers refuse such characters today, so the rows here hold them the way an
older row, or one written by another program, could.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.agent.forms.conftest import Office
from tests.agent.forms.seeding import CHECKUP_ANSWERS
from tests.agent.forms.test_cli_answers import HEADER, csv_rows, send
from tests.support.database import execute

Capture = pytest.CaptureFixture[str]
# Moves the cursor home and clears the screen (C1 CSI), retitles the window (ESC ] ... BEL),
# then reverses what follows on the line (U+202E).
HOSTILE_NOTES = "ok\x9bH\x9b2J\x1b]0;pwned\x07 gone\u202etxt.exe\nnext line"
SHOWN_NOTES = "ok\\x9bH\\x9b2J\\x1b]0;pwned\\x07 gone\\u202etxt.exe\nnext line"


def sent_with_hostile_notes(office: Office, patient_id: int = 4) -> int:
    assignment = send(office, patient_id, CHECKUP_ANSWERS)
    stored = {**CHECKUP_ANSWERS, "nickname": "Pat\u2066", "notes": HOSTILE_NOTES}
    execute(
        office.settings,
        "UPDATE portal_form_assignments SET answers = %s WHERE id = %s",
        (json.dumps(stored), assignment),
    )
    return assignment


# --- the output file ---------------------------------------------------------------------------


def test_an_existing_world_readable_file_is_replaced_by_an_owner_only_one(
    office: Office, capsys: Capture, tmp_path: Path
) -> None:
    send(office, 4, CHECKUP_ANSWERS)
    target = tmp_path / "answers.csv"
    target.write_text("old export\n")
    target.chmod(0o644)

    assert office.run("answers", "checkup", "--output", str(target)) == 0

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert csv_rows(target.read_text())[0] == HEADER
    assert csv_rows(target.read_text())[1][0] == "4"


def test_a_symbolic_link_is_refused_and_the_file_it_points_to_is_untouched(
    office: Office, capsys: Capture, tmp_path: Path
) -> None:
    send(office, 4, CHECKUP_ANSWERS)
    shared = tmp_path / "shared.txt"
    shared.write_text("someone else's file\n")
    shared.chmod(0o644)
    link = tmp_path / "answers.csv"
    link.symlink_to(shared)

    assert office.run("answers", "checkup", "--output", str(link)) == 1

    assert capsys.readouterr().err == (
        f"error: cannot write {link}: it is a symbolic link; give the path of the file itself, "
        "or a new file\n"
    )
    assert link.is_symlink()
    assert shared.read_text() == "someone else's file\n"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644


def test_a_folder_is_refused_before_any_answer_is_read(
    office: Office, capsys: Capture, tmp_path: Path
) -> None:
    send(office, 4, CHECKUP_ANSWERS)
    before = office.staff_audit()
    folder = tmp_path / "exports"
    folder.mkdir()

    assert office.run("answers", "checkup", "--output", str(folder)) == 1

    assert capsys.readouterr().err == (
        f"error: cannot write {folder}: it is a folder; give a file name inside it\n"
    )
    assert office.staff_audit() == before
    assert list(folder.iterdir()) == []


def test_writing_the_file_leaves_nothing_else_in_its_folder(
    office: Office, capsys: Capture, tmp_path: Path
) -> None:
    send(office, 4, CHECKUP_ANSWERS)
    folder = tmp_path / "exports"
    folder.mkdir()

    assert office.run("answers", "checkup", "--output", str(folder / "answers.json")) == 0
    assert office.run("answers", "checkup", "--output", str(folder / "answers.json")) == 0

    assert os.listdir(folder) == ["answers.json"]


# --- what reaches the terminal -----------------------------------------------------------------


def test_csv_on_stdout_shows_control_and_format_characters_as_escapes(
    office: Office, capsys: Capture
) -> None:
    sent_with_hostile_notes(office)

    assert office.run("answers", "checkup") == 0

    out = capsys.readouterr().out
    assert not any(c in out for c in "\x9b\x1b\x07\u202e\u2066")
    row = csv_rows(out)[1]
    assert row[HEADER.index("notes")] == SHOWN_NOTES
    assert row[HEADER.index("nickname")] == "Pat\\u2066"


def test_json_on_stdout_escapes_them_and_still_reads_back_as_stored(
    office: Office, capsys: Capture
) -> None:
    sent_with_hostile_notes(office)

    assert office.run("answers", "checkup", "--format", "json") == 0

    out = capsys.readouterr().out
    assert not any(c in out for c in "\x9b\x1b\x07\u202e\u2066")
    assert "\\u009b" in out and "\\u202e" in out
    answers = json.loads(out)["submissions"][0]["answers"]
    assert answers["notes"] == HOSTILE_NOTES
    assert answers["nickname"] == "Pat\u2066"


def test_a_csv_file_keeps_the_answers_exactly_as_stored(
    office: Office, capsys: Capture, tmp_path: Path
) -> None:
    sent_with_hostile_notes(office)
    target = tmp_path / "answers.csv"

    assert office.run("answers", "checkup", "--output", str(target)) == 0

    row = csv_rows(target.read_text(encoding="utf-8"))[1]
    assert row[HEADER.index("notes")] == HOSTILE_NOTES


def test_words_with_joiners_are_printed_as_typed(office: Office, capsys: Capture) -> None:
    # ZERO WIDTH NON-JOINER is a key on the Persian keyboard ("I want" below); ZERO WIDTH JOINER
    # builds the family emoji. Both are format characters that do nothing to a terminal.
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    typed = f"{persian} \U0001f468\u200d\U0001f469\u200d\U0001f467"
    send(office, 4, {**CHECKUP_ANSWERS, "notes": typed})

    assert office.run("answers", "checkup") == 0

    assert csv_rows(capsys.readouterr().out)[1][HEADER.index("notes")] == typed
