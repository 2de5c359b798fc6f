"""``portico-agent``: the on-premise daemon's command line (the parser and the entry point;
each verb group lives in its own module of this package)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from agent.cli.demo import add_commands as add_demo_commands
from agent.cli.forms import add_commands as add_form_commands
from agent.cli.messages import add_commands as add_message_commands
from agent.cli.server import add_check_commands, add_config_commands, add_run_commands
from agent.cli.staff import add_commands as add_staff_commands
from protocol.service.logs import configure_logging
from protocol.service.verbs import run_verb


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portico-agent",
        description="The Portico agent: the link endpoint next to the practice database.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    add_run_commands(sub)
    add_demo_commands(sub)
    add_check_commands(sub)
    add_staff_commands(sub)
    add_message_commands(sub)
    add_form_commands(sub)
    add_config_commands(sub)
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
