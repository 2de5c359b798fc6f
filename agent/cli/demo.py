"""`portico-agent seed-demo`: fill an empty database with the made-up demo practice
(agent/demo/), its portal content and a demo patient login, for `make demo`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymysql

from agent.access.passwords import PasswordHasher
from agent.cli.config_file import load_or_report, with_config
from agent.config import ConfigInvalid
from agent.db.migrate import connect
from agent.demo.login import DEMO_PASSWORD, create_demo_login
from agent.demo.portal import SOURCE_FORMS, seed_portal_demo
from agent.demo.practice import DemoSeedRefused, seed_demo
from agent.wiring import database_settings


def _cmd_seed_demo(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    now = datetime.now(UTC)
    try:
        connection = connect(database_settings(config))
        with connection:
            summary = seed_demo(connection, now=now, timezone=config.practice.timezone)
            hasher = PasswordHasher()
            try:
                password_hash = asyncio.run(hasher.hash(DEMO_PASSWORD))
            finally:
                hasher.close()
            login = create_demo_login(connection, password_hash, now=now)
            portal = seed_portal_demo(
                connection,
                now=now,
                login=login,
                practice_name=config.practice.name,
                forms_dir=Path(args.forms_dir) if args.forms_dir else SOURCE_FORMS,
            )
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(f"error: a demo form: {problem}", file=sys.stderr)
        return 1
    except DemoSeedRefused as exc:
        print(f"not seeded: {exc}", file=sys.stderr)
        return 1
    except pymysql.MySQLError as exc:
        print(f"error: cannot seed the database: {exc}", file=sys.stderr)
        return 1
    print(summary.describe())
    for line in portal:
        print(line)
    print(f"demo patient login: {login} / {DEMO_PASSWORD}")
    return 0


def add_commands(sub: Any) -> None:
    """seed-demo on the top-level subparsers `sub`."""
    seed = with_config(
        sub.add_parser("seed-demo", help="fill an EMPTY database with a made-up demo practice")
    )
    seed.add_argument(
        "--forms-dir", help="forms to load for the demo (default: config/forms of the source)"
    )
    seed.set_defaults(handler=_cmd_seed_demo)
