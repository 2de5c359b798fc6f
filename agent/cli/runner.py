"""Running one staff command: load the agent's config, open the database, build the service the
command needs, run it as `staff:<os user>`, and turn the expected failures into one `error:`
line and exit status 1. Shared by the staff, messages and forms command groups."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from agent.cli.config_file import load_or_report
from agent.config import AgentConfig
from agent.db import Database, DatabaseUnavailable
from agent.wiring import database_settings

Service = TypeVar("Service")


def positive_id(kind: str) -> Callable[[str], int]:
    """An argparse type for a `kind` id (patient, thread, ...): ASCII digits, 1 to 2**63-1."""

    def parse(text: str) -> int:
        if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**63:
            raise argparse.ArgumentTypeError(f"a {kind} id is a positive whole number")
        return int(text)

    return parse


def run_staff_command(
    args: argparse.Namespace,
    build: Callable[[AgentConfig, Database, str], Service],
    action: Callable[[Service, str], Awaitable[int]],
    *,
    refused: tuple[type[Exception], ...],
    close: Callable[[Service], None] | None = None,
) -> int:
    """`build(config, db, actor)` makes the service; `action(service, actor)` does the work and
    returns the exit status. An exception of a `refused` type (the command's own "cannot do
    that") and an unreachable database print their reason and return 1."""
    config = load_or_report(args.config)
    if config is None:
        return 1
    actor = f"staff:{getpass.getuser()}"

    async def main() -> int:
        db = Database(database_settings(config))
        service = build(config, db, actor)
        try:
            return await action(service, actor)
        except refused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except DatabaseUnavailable:
            print(
                "error: the database cannot be reached; check database.* in the config",
                file=sys.stderr,
            )
            return 1
        finally:
            if close is not None:
                close(service)
            await db.close()

    return asyncio.run(main())
