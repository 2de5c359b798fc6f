"""Staff commands `portico-agent forms ...`: load a form, list forms, assign, export answers.

Like the other staff commands (agent/cli/staff.py) they run on the practice server with the
agent's config and talk to the database directly; each prints what it did in plain words and
exits 1 with the reason when it could not. The exported answers are PHI: they go to stdout or
to a file only the user running the command can read, and never to a log.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import secrets
import stat
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.cli.config_file import with_config
from agent.cli.runner import positive_id, run_staff_command
from agent.clock import SystemClock
from agent.config import AgentConfig
from agent.db import Database
from agent.forms.definition import ConfigInvalid, parse_definition
from agent.forms.service import FormExport, FormService, FormsRefused
from agent.terminal import is_hidden, terminal_safe
from agent.wiring import practice_store

Action = Callable[[FormService, str], Awaitable[int]]


def _run(args: argparse.Namespace, action: Action) -> int:
    def build(config: AgentConfig, db: Database, actor: str) -> FormService:
        zone = ZoneInfo(config.practice.timezone)
        return FormService(db, SystemClock(), zone, lookups=practice_store(config, db))

    return run_staff_command(args, build, action, refused=(FormsRefused,))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


# --- forms add -----------------------------------------------------------------------------------


def _cmd_add(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        definition = parse_definition(path.read_bytes())
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror or exc}")
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(f"error: {path}: {problem}", file=sys.stderr)
        count = len(invalid.problems)
        return _fail(f"{path}: not loaded ({count} problem{'' if count == 1 else 's'})")

    async def add(forms: FormService, actor: str) -> int:
        added = await forms.add_definition(definition, actor)
        if added.new:
            print(
                f'loaded "{added.key}" version {added.version}: {added.title} '
                f"({len(definition.fields)} questions)"
            )
        else:
            print(
                f'"{added.key}" version {added.version} already has exactly these questions; '
                "nothing changed"
            )
        return 0

    return _run(args, add)


# --- forms list ----------------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    async def overview(forms: FormService, actor: str) -> int:
        rows = await forms.forms_overview()
        if not rows:
            print("no forms are loaded; add one with `portico-agent forms add FILE`")
            return 0
        for row in rows:
            print(
                f"{row['form_key']}  version {row['version']}  {row['title']}\n"
                f"  to do: {row['assigned']}, draft saved: {row['draft']}, "
                f"sent: {row['submitted']}"
            )
        return 0

    return _run(args, overview)


# --- forms assign --------------------------------------------------------------------------------


def _cmd_assign(args: argparse.Namespace) -> int:
    by_type = args.appointment_type is not None
    if by_type == (args.patient_id is not None):
        return _fail("give a PATIENT_ID or --appointment-type (not both)")
    if args.days is not None and not by_type:
        return _fail("--days goes with --appointment-type")
    days = 30 if args.days is None else args.days

    async def assign_one(forms: FormService, actor: str) -> int:
        assignment_id = await forms.assign(args.form_key, args.patient_id, actor)
        print(
            f'assigned "{args.form_key}" to patient {args.patient_id} (assignment {assignment_id})'
        )
        return 0

    async def assign_by_type(forms: FormService, actor: str) -> int:
        summary = await forms.assign_by_appointment_type(
            args.form_key, args.appointment_type, days, actor
        )
        print(
            f"patients with a booked {args.appointment_type!r} appointment in the next "
            f"{days} days: {summary.patients_found}"
        )
        print(f"assigned the form: {len(summary.assigned)}")
        print(f"skipped, given this form before: {len(summary.already_had)}")
        return 0

    return _run(args, assign_by_type if by_type else assign_one)


# --- forms answers -------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection), so such
# a cell gets a leading apostrophe, which spreadsheets show as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object, *, for_terminal: bool) -> str:
    text = "; ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    if for_terminal:
        text = terminal_safe(text, one_line=False)  # a quoted cell may hold line breaks
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_csv(export: FormExport, *, for_terminal: bool = False) -> str:
    """One row per sent form: patient id, when it was sent (UTC), the form version, then one
    column per question (multiple choices joined with "; ").

    `for_terminal` shows control and format characters as escapes (agent/terminal.py): sent
    answers refuse them, but rows sent before that rule, or written into the database by
    something else, may hold them. A file keeps the answers exactly as stored."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = [question.name for question in export.fields]
    writer.writerow(["patient_id", "submitted_at", "form_version", *names])
    for row in export.rows:
        writer.writerow(
            [
                row.patient_id,
                row.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                row.version,
                *(_cell(row.answers.get(name), for_terminal=for_terminal) for name in names),
            ]
        )
    return out.getvalue()


def export_json(export: FormExport) -> str:
    """The form's questions and every sent copy's answers. Control and format characters are
    written as JSON escapes (``\\u202e``), wherever it is going: the document means the same
    to a JSON reader, and nothing in it acts on a terminal that shows it."""
    document: dict[str, Any] = {
        "form": export.key,
        "title": export.title,
        "fields": [{"name": q.name, "label": q.label, "type": q.type} for q in export.fields],
        "submissions": [
            {
                "assignment_id": row.assignment_id,
                "patient_id": row.patient_id,
                "form_version": row.version,
                "submitted_at": row.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "answers": row.answers,
            }
            for row in export.rows
        ],
    }
    return _json_escaped(json.dumps(document, ensure_ascii=False, indent=2)) + "\n"


def _json_escaped(text: str) -> str:
    # json.dumps already escapes C0 controls inside strings, so a raw line break here is the
    # indentation's; what is left raw (DEL, C1, Cf, lone surrogates) can only be inside a
    # string, where a \\uXXXX escape stands for the same character.
    if text.isprintable():
        return text
    return "".join(json.dumps(c)[1:-1] if c != "\n" and is_hidden(c) else c for c in text)


class _Unwritable(Exception):
    """The output path is not a file the export may replace; the message says why."""


def _output_problem(path: Path) -> str | None:
    """Why `path` cannot take the export, or None. An existing file is replaced, but a
    symbolic link, folder or device is refused rather than written through."""
    if not path.parent.is_dir():
        return f"the folder {path.parent} does not exist"
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISLNK(mode):
        return "it is a symbolic link; give the path of the file itself, or a new file"
    if stat.S_ISDIR(mode):
        return "it is a folder; give a file name inside it"
    if not stat.S_ISREG(mode):
        return "it is not a regular file"
    return None


def _write_private(path: Path, text: str) -> None:
    """Answers are PHI: write them to a new file that only the user running the command can
    read, then move it over `path`. Truncating an existing file would keep its old permissions
    (perhaps world-readable) and would follow a symbolic link planted at `path`; a rename
    replaces the directory entry itself, so neither can happen, and a reader sees either the
    old file or the whole new one."""
    problem = _output_problem(path)
    if problem is not None:
        raise _Unwritable(problem)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL with O_NOFOLLOW: never open a file or link someone else put at this name.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    out = os.fdopen(os.open(temporary, flags, 0o600), "w", encoding="utf-8", newline="")
    try:
        with out:
            os.fchmod(out.fileno(), 0o600)  # exactly owner-only, whatever the umask
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _cmd_answers(args: argparse.Namespace) -> int:
    output = Path(args.output) if args.output else None
    problem = None if output is None else _output_problem(output)
    if problem is not None:
        return _fail(f"cannot write {output}: {problem}")

    async def answers(forms: FormService, actor: str) -> int:
        export = await forms.export_answers(args.form_key, actor)
        if args.format == "json":
            text = export_json(export)
        else:
            text = export_csv(export, for_terminal=output is None)
        if output is None:
            sys.stdout.write(text)
        else:
            try:
                _write_private(output, text)
            except _Unwritable as refused:
                return _fail(f"cannot write {output}: {refused}")
            except OSError as exc:
                return _fail(f"cannot write {output}: {exc.strerror or exc}")
        where = "" if output is None else f" to {output}"
        print(f"{len(export.rows)} sent form(s) exported{where}", file=sys.stderr)
        return 0

    return _run(args, answers)


# --- the command group ---------------------------------------------------------------------------


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 365:
        raise argparse.ArgumentTypeError("--days is a whole number of days from 1 to 365")
    return int(text)


def _help_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show_help(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    return show_help


def add_commands(sub: Any) -> None:
    """Register the `forms` command group on the top-level subparsers `sub`."""
    forms = sub.add_parser("forms", help="portal forms: load, assign, export answers")
    forms.set_defaults(handler=_help_of(forms))
    forms_sub = forms.add_subparsers(title="forms commands", metavar="COMMAND")

    add = with_config(forms_sub.add_parser("add", help="load a form file (a new version)"))
    add.add_argument("file", metavar="FILE", help="a form's YAML, like config/forms/*.yaml")
    add.set_defaults(handler=_cmd_add)

    listing = with_config(forms_sub.add_parser("list", help="loaded forms and their progress"))
    listing.set_defaults(handler=_cmd_list)

    assign = with_config(
        forms_sub.add_parser("assign", help="give a form to a patient, or to everyone booked")
    )
    assign.add_argument("form_key", metavar="FORM_KEY")
    assign.add_argument("patient_id", nargs="?", type=positive_id("patient"), metavar="PATIENT_ID")
    assign.add_argument(
        "--appointment-type",
        metavar="ID_OR_NAME",
        help="every patient with an upcoming appointment of this type",
    )
    assign.add_argument(
        "--days", type=_days, metavar="N", help="how far ahead 'upcoming' reaches (default 30)"
    )
    assign.set_defaults(handler=_cmd_assign)

    answers = with_config(forms_sub.add_parser("answers", help="export the sent answers"))
    answers.add_argument("form_key", metavar="FORM_KEY")
    answers.add_argument("--format", choices=["csv", "json"], default="csv")
    answers.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    answers.set_defaults(handler=_cmd_answers)
