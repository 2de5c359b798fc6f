"""Staff commands of `portico-agent`: invite, access, patients duplicates, email, audit.

They run on the practice server with the agent's config, talk to the database directly, and
queue email in the outbox for the running agent to send. Each prints what it did in plain
words and exits 1 with the reason when it could not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from agent.access.staff import StaffActions, StaffRefused
from agent.cli.config_file import with_config
from agent.cli.runner import positive_id, run_staff_command
from agent.clock import SystemClock
from agent.config import AgentConfig
from agent.db import Database
from agent.errors import Refused
from agent.wiring import build_access


def _run(args: argparse.Namespace, action: Callable[[StaffActions], Awaitable[int]]) -> int:
    def build(config: AgentConfig, db: Database, actor: str) -> StaffActions:
        zone = ZoneInfo(config.practice.timezone)
        return StaffActions(build_access(config, db, SystemClock()), actor, zone)

    return run_staff_command(
        args,
        build,
        lambda staff, _actor: action(staff),
        # Refused: a lock another change held too long (the OpenEMR store's LockTimeout).
        refused=(StaffRefused, Refused),
        close=lambda staff: staff.access.hasher.close(),
    )


def _cmd_invite(args: argparse.Namespace) -> int:
    async def invite(staff: StaffActions) -> int:
        if args.all:
            summary = await staff.invite_all()
            print(f"invitations sent: {len(summary.sent)}")
            print(f"already have an active account: {len(summary.already_active)}")
            print(f"no valid email on file: {len(summary.no_valid_email)}")
            print(f"no home zip code on file: {len(summary.no_zip)}")
            skipped = sum(len(ids) for ids in summary.duplicates.values())
            print(f"skipped, email shared with another patient: {skipped}")
            for address, ids in sorted(summary.duplicates.items()):
                print(f"  {address}: patients {', '.join(map(str, ids))}")
            if summary.duplicates:
                print(
                    "Give each of these patients their own address (or use usernames, "
                    "access.identity: username), then run `invite --all` again."
                )
            return 0
        sent_to = await staff.invite(args.patient_id)
        print(f"invitation sent to {sent_to}")
        return 0

    if args.all == (args.patient_id is not None):
        print("error: give a PATIENT_ID or --all", file=sys.stderr)
        return 1
    return _run(args, invite)


def _cmd_access(args: argparse.Namespace) -> int:
    async def access(staff: StaffActions) -> int:
        print(await staff.set_access(args.patient_id, args.state == "enable"))
        return 0

    return _run(args, access)


def _cmd_duplicates(args: argparse.Namespace) -> int:
    async def duplicates(staff: StaffActions) -> int:
        groups = await staff.duplicates()
        if not groups:
            print("no two patients share an email address")
            return 0
        print(f"{len(groups)} email address(es) shared by more than one patient:")
        for address, rows in sorted(groups.items()):
            print(address)
            for row in rows:
                account = "has a portal account" if row["account_id"] else "no portal account"
                print(
                    f"  patient {row['id']}: {row['first_name']} {row['last_name']}, "
                    f"on file as {row['email']!r} ({account})"
                )
        return 0

    return _run(args, duplicates)


PRIVACY_REMINDER = (
    "Before you change a patient's email address: make sure the request comes from the "
    "patient, and that only the patient reads mail at the new address. Portal invitations, "
    "password resets and message notices will go there."
)


def _confirmed(args: argparse.Namespace, address: str) -> bool:
    """The privacy reminder, then y/N at a terminal. Without a terminal only --yes confirms:
    a script must say that someone checked with the patient."""
    print(PRIVACY_REMINDER, file=sys.stderr)
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(
            "error: nothing changed. Run the command at a terminal to answer the question, or "
            "add --yes once you have checked with the patient.",
            file=sys.stderr,
        )
        return False
    print(
        f"Send a confirmation link to {address} for patient {args.patient_id}? [y/N] ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    try:
        answer = sys.stdin.readline().strip().lower()
    except KeyboardInterrupt:  # Ctrl-C is a "no", not a traceback
        answer = ""
        print(file=sys.stderr)
    if answer in ("y", "yes"):
        return True
    print("nothing changed", file=sys.stderr)
    return False


def _cmd_email_change(args: argparse.Namespace) -> int:
    try:
        address = StaffActions.new_address(args.address)
    except StaffRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not _confirmed(args, address):
        return 1

    async def change(staff: StaffActions) -> int:
        print(await staff.request_email_change(args.patient_id, address))
        return 0

    return _run(args, change)


def _row_count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= 1_000_000:
        raise argparse.ArgumentTypeError("a number of rows from 1 to 1000000")
    return int(text)


AUDIT_COLUMNS = ("row", "time", "actor", "patient", "action", "outcome", "client ip", "detail")
AUDIT_PAGE = 1000


def _cmd_audit(args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            print("error: --since must be a date like 2026-11-01", file=sys.stderr)
            return 1

    async def audit(staff: StaffActions) -> int:
        page = await staff.audit_page(args.patient, since, args.after, args.limit)
        zone = getattr(staff.zone, "key", str(staff.zone))
        print("\t".join(f"time ({zone})" if c == "time" else c for c in AUDIT_COLUMNS))
        for row in page.rows:
            cells = (
                row["id"],
                # One precision for every row: the column is DATETIME(6), but a fraction of a
                # second only on some rows makes the column ragged and helps nobody.
                row["occurred_at"].isoformat(sep=" ", timespec="seconds"),
                row["actor"],
                row["patient_id"],
                row["action"],
                row["outcome"],
                row["client_ip"],
                row["detail"],
            )
            print("\t".join("-" if cell is None else str(cell) for cell in cells))
        summary = f"{len(page.rows)} row(s); times are {zone} time"
        if page.more:
            summary += (
                f". {page.more} more row(s): run the same command with "
                f"--after {page.rows[-1]['id']} to see the next ones"
            )
        print(summary, file=sys.stderr)
        return 0

    return _run(args, audit)


def add_commands(sub: Any) -> None:
    """invite, access, patients, email and audit on the top-level subparsers `sub`."""
    invite = with_config(sub.add_parser("invite", help="email portal invitations"))
    invite.add_argument("patient_id", nargs="?", type=positive_id("patient"), metavar="PATIENT_ID")
    invite.add_argument(
        "--all", action="store_true", help="every patient with a valid email and no active account"
    )
    invite.set_defaults(handler=_cmd_invite)

    access = with_config(sub.add_parser("access", help="turn a patient's portal access on/off"))
    access.add_argument("state", choices=["enable", "disable"])
    access.add_argument("patient_id", type=positive_id("patient"), metavar="PATIENT_ID")
    access.set_defaults(handler=_cmd_access)

    patients = sub.add_parser("patients", help="patient reports")
    patients_sub = patients.add_subparsers(title="patients commands", metavar="COMMAND")
    duplicates = with_config(
        patients_sub.add_parser(
            "duplicates", help="patients who share an email address (normalised)"
        )
    )
    duplicates.set_defaults(handler=_cmd_duplicates)

    email = sub.add_parser("email", help="change a patient's email address")
    email_sub = email.add_subparsers(title="email commands", metavar="COMMAND")
    change = with_config(
        email_sub.add_parser(
            "change", help="send a confirmation link to a new address; it changes when opened"
        )
    )
    change.add_argument("patient_id", type=positive_id("patient"), metavar="PATIENT_ID")
    change.add_argument("address", metavar="ADDRESS")
    change.add_argument(
        "--yes", action="store_true", help="do not ask: you have checked with the patient"
    )
    change.set_defaults(handler=_cmd_email_change)

    audit = with_config(sub.add_parser("audit", help="print the audit trail"))
    audit.add_argument("--patient", type=positive_id("patient"), metavar="PATIENT_ID")
    audit.add_argument("--since", metavar="DATE", help="YYYY-MM-DD, in the practice's time zone")
    audit.add_argument(
        "--after",
        type=positive_id("row"),
        metavar="ROW",
        help="only rows written after this one (the first column); to see the next page",
    )
    audit.add_argument(
        "--limit",
        type=_row_count,
        default=AUDIT_PAGE,
        metavar="N",
        help=f"print at most N rows (default {AUDIT_PAGE}); the rest are counted",
    )
    audit.set_defaults(handler=_cmd_audit)
