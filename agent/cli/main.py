"""``portico-agent``: the on-premise daemon's command line (the parser and the entry point;
each verb group lives in its own module of this package)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from agent.cli import demo, forms, messages, server, staff
from protocol.entry_point import run_verb
from protocol.logconfig import configure_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portico-agent",
        description="The Portico agent: the link endpoint next to the practice database.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    server.add_run_commands(sub)
    demo.add_commands(sub)
    server.add_check_commands(sub)
    staff.add_commands(sub)
    messages.add_commands(sub)
    forms.add_commands(sub)
    server.add_config_commands(sub)
    return parser


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        return run_verb(lambda: _print_help(parser))
    return run_verb(lambda: int(handler(args)))
