"""Staff commands `portico-agent messages send | list | show`.

They run on the practice server with the agent's config and write to the database directly;
the notice email they queue is delivered by the running agent's outbox. Each prints what it
did in plain words and exits 1 with the reason when it could not. Patient replies are printed
with control characters made visible, so a reply cannot drive the staff member's terminal.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from agent.cli.config_file import with_config
from agent.cli.runner import positive_id, run_staff_command
from agent.clock import SystemClock
from agent.config import AgentConfig
from agent.db import Database
from agent.messages.office import OfficeMessage
from agent.messages.rules import (
    ATTACHMENT_MAX_BYTES,
    Attachment,
    MessageRefused,
    attachment_filename,
    check_attachment,
    check_attachment_count,
    clean_author,
    clean_body,
    clean_subject,
    too_large,
)
from agent.messages.service import MessageService
from agent.terminal import terminal_safe as _terminal_safe
from agent.wiring import mail_templates, practice_store

BODY_FILE_MAX = 1024 * 1024  # far above 5,000 characters; only stops reading a wrong file

Action = Callable[[MessageService, str], Awaitable[int]]


def _fail(problem: str) -> int:
    print(f"error: {problem}", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace, action: Action) -> int:
    def build(config: AgentConfig, db: Database, actor: str) -> MessageService:
        return MessageService(
            db,
            SystemClock(),
            ZoneInfo(config.practice.timezone),
            practice_name=config.practice.name,
            notice=mail_templates(config).new_message_notice,
            lookups=practice_store(config, db),
        )

    return run_staff_command(args, build, action, refused=(MessageRefused,))


# -- reading the files to send ---------------------------------------------------------------


def _read_body(path: str) -> str:
    if path == "-":
        raw = sys.stdin.buffer.read(BODY_FILE_MAX + 1)
    else:
        try:
            with open(path, "rb") as file:
                raw = file.read(BODY_FILE_MAX + 1)
        except OSError as exc:
            raise MessageRefused("body-file", f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > BODY_FILE_MAX:
        raise MessageRefused("body-file", f"{path} is far longer than a message can be")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MessageRefused("body-file", f"{path} is not UTF-8 text") from None
    return clean_body(text)


def _read_attachment(path: str) -> Attachment:
    name = attachment_filename(path)
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise MessageRefused("attach", f"{name}: not a regular file")
            # Checked before reading: a wrong file of gigabytes is refused at once.
            if info.st_size > ATTACHMENT_MAX_BYTES:
                raise MessageRefused("attach", f"{name}: {too_large(info.st_size)}")
            data = file.read(ATTACHMENT_MAX_BYTES + 1)
    except OSError as exc:
        raise MessageRefused("attach", f"cannot read {path}: {exc.strerror}") from None
    return check_attachment(name, data)


def _office_message(args: argparse.Namespace) -> tuple[OfficeMessage | None, list[str]]:
    """The message to send, or every problem with the command line (all reported at once)."""
    problems: list[str] = []

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except MessageRefused as refused:
            problems.append(str(refused))
            return None

    if args.thread is None and args.subject is None:
        problems.append("subject: a new message needs --subject (or --thread to answer)")
    if args.thread is not None and args.subject is not None:
        problems.append("subject: an answer keeps its thread's subject; leave out --subject")
    subject = attempt(lambda: clean_subject(args.subject)) if args.subject is not None else None
    body = attempt(lambda: _read_body(args.body_file))
    author = attempt(lambda: clean_author(args.author)) if args.author is not None else None
    attempt(lambda: check_attachment_count(len(args.attach)))
    files = [attempt(partial(_read_attachment, path)) for path in args.attach]
    if problems:
        return None, problems
    message = OfficeMessage(
        patient_id=args.patient_id,
        body=body,
        author=author or "",
        subject=subject,
        thread_id=args.thread,
        attachments=tuple(files),
        replies_allowed=not args.no_reply,
    )
    return message, []


# -- commands --------------------------------------------------------------------------------


def _cmd_send(args: argparse.Namespace) -> int:
    message, problems = _office_message(args)
    if message is None:
        for problem in problems:
            _fail(problem)
        return 1

    async def send(service: MessageService, actor: str) -> int:
        assert message is not None
        sent = await service.send(actor, message)
        where = "a new thread" if sent.new_thread else "thread"
        count = len(message.attachments)
        files = f", {count} attachment(s)" if count else ""
        print(
            f"message {sent.message_id} sent to patient {message.patient_id} in {where} "
            f"{sent.thread_id}{files}"
        )
        if sent.notice_queued:
            print("the patient will get an email saying a message is waiting (no content)")
        else:
            print(
                "no email sent: the patient has no active portal account with access "
                "enabled; the message waits in the portal"
            )
        return 0

    return _run(args, send)


def _cmd_list(args: argparse.Namespace) -> int:
    async def show_list(service: MessageService, actor: str) -> int:
        rows = await service.staff_threads(actor, args.patient, args.unread)
        print(
            "thread\tpatient\tname\tlast message\tlast from\tmessages\tunread from patient\ttopic"
            "\tsubject"
        )
        for row in rows:
            name = f"{row['first_name']} {row['last_name']}"
            cells = [
                row["id"],
                row["patient_id"],
                name,
                _local_minute(row["local_last"]),
                row["last_sender"],
                row["messages"],
                int(row["unread_replies"] or 0),
                # A patient-started thread's topic; the office's own threads have none.
                row["topic"] or "-",
                row["subject"],
            ]
            print("\t".join(_terminal_safe(str(cell), one_line=True) for cell in cells))
        print(f"{len(rows)} thread(s)", file=sys.stderr)
        return 0

    return _run(args, show_list)


def _cmd_show(args: argparse.Namespace) -> int:
    async def show(service: MessageService, actor: str) -> int:
        thread = await service.staff_thread(actor, args.thread_id)
        patient = thread["patient"] or {}
        name = f"{patient.get('first_name', '')} {patient.get('last_name', '')}".strip()
        print(f"thread {thread['id']}: {_terminal_safe(thread['subject'], one_line=True)}")
        print(f"patient {thread['patient_id']}: {_terminal_safe(name, one_line=True)}")
        if thread["topic"]:
            topic = _terminal_safe(thread["topic"], one_line=True)
            print(f"started by the patient, topic: {topic}")
        print(f"replies allowed: {'yes' if thread['replies_allowed'] else 'no'}")
        newly_read = 0
        for message in thread["messages"]:
            side = "the office" if message["sender"] == "office" else "the patient"
            new = message["sender"] == "patient" and message["read_by_staff_at"] is None
            newly_read += new
            author = _terminal_safe(message["author"], one_line=True)
            print()
            print(
                f"--- message {message['id']}, from {side} ({author}), "
                f"{_local_minute(message['local_sent'])}{' [new]' if new else ''}"
            )
            print(_terminal_safe(message["body"], one_line=False))
            for item in message["attachments"]:
                filename = _terminal_safe(item["filename"], one_line=True)
                print(
                    f"attachment {item['id']}: {filename} "
                    f"({item['content_type']}, {item['size']:,} bytes)"
                )
        print(
            f"{newly_read} patient message{'' if newly_read == 1 else 's'} marked read",
            file=sys.stderr,
        )
        return 0

    return _run(args, show)


# -- formatting ------------------------------------------------------------------------------


def _local_minute(iso: str) -> str:
    """`2026-11-23 07:00 -05:00`: the practice's local time, as staff read their schedule."""
    moment = datetime.fromisoformat(iso)
    return moment.strftime("%Y-%m-%d %H:%M ") + moment.isoformat()[-6:]


def add_commands(sub: Any) -> None:
    """Register the `messages` command group on the top-level subparsers `sub`."""
    messages = sub.add_parser("messages", help="secure messages to and from patients")
    messages.set_defaults(handler=lambda _args: messages.print_help() or 0)
    group = messages.add_subparsers(title="messages commands", metavar="COMMAND")

    send = with_config(
        group.add_parser(
            "send",
            help="send a patient a message in the portal (they are emailed a notice, "
            "without the content)",
        )
    )
    send.add_argument("patient_id", type=positive_id("patient"), metavar="PATIENT_ID")
    send.add_argument("--subject", metavar="S", help="subject of a new thread (1-200 characters)")
    send.add_argument(
        "--body-file",
        required=True,
        metavar="F",
        help="the message, UTF-8 text of 1-5,000 characters; - reads standard input",
    )
    send.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="attach a pdf, png, jpg or txt file of at most 3 MiB (up to 5 times)",
    )
    send.add_argument(
        "--from",
        dest="author",
        metavar="NAME",
        help="name shown as the sender (default: the practice's name)",
    )
    send.add_argument(
        "--thread",
        type=positive_id("thread"),
        metavar="ID",
        help="answer inside this existing thread of the patient's",
    )
    send.add_argument(
        "--no-reply", action="store_true", help="an announcement: the patient cannot answer it"
    )
    send.set_defaults(handler=_cmd_send)

    listing = with_config(group.add_parser("list", help="list message threads, newest first"))
    listing.add_argument("--patient", type=positive_id("patient"), metavar="ID")
    listing.add_argument(
        "--unread",
        action="store_true",
        help="only threads with patient messages staff have not read",
    )
    listing.set_defaults(handler=_cmd_list)

    show = with_config(
        group.add_parser("show", help="print a thread; marks the patient's messages read")
    )
    show.add_argument("thread_id", type=positive_id("thread"), metavar="THREAD_ID")
    show.set_defaults(handler=_cmd_show)
