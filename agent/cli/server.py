"""`portico-agent` verbs that set up, check and run the agent on the practice server:
init-keys, run, migrate, embed-code, check, config validate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import pymysql

from agent.access.logins import identity_note
from agent.cli.config_file import load_or_report, with_config
from agent.config import ConfigInvalid, config_warnings, named_files, parse_config, unreadable_files
from agent.config_report import with_lines
from agent.db.migrate import MigrationError, apply_migrations
from agent.embed import embed_code
from agent.wiring import database_settings
from protocol.keys import init_keys_command
from protocol.service.logs import configure_logging

COMMON_NAME = "portico-agent"


def _cmd_init_keys(args: argparse.Namespace) -> int:
    return init_keys_command(Path(args.dir), COMMON_NAME)


def _cmd_run(args: argparse.Namespace) -> int:
    # Here, not at the top: the daemon pulls in aiohttp and prometheus_client (about a quarter
    # of a second), which no staff command needs.
    from agent.daemon import run

    config = load_or_report(args.config)
    if config is None:
        return 1
    # All of them now, as this user: a password file the mail worker would first open hours
    # later must not pass unnoticed, and the journal gets one line per file, not a traceback.
    unreadable = unreadable_files(named_files(config))
    for setting, path, reason in unreadable:
        print(f"error: cannot read {setting} {path}: {reason}", file=sys.stderr)
    if unreadable:
        return 1
    configure_logging(config.logging.level)
    asyncio.run(run(config, Path(args.config)))
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    settings = database_settings(config)
    system = config.practice.system
    try:
        applied = apply_migrations(settings, system)
    except (MigrationError, pymysql.MySQLError) as exc:
        print(f"error: migration failed: {exc}", file=sys.stderr)
        return 1
    for name in applied:
        print(f"applied {name}")
    if system == "openemr":
        # Said outright: an OpenEMR office's first worry is its own database.
        print(
            f"Portico's tables are in database {settings.name}; the OpenEMR database"
            f" {config.database.name} was not changed"
        )
    print("database schema is up to date")
    return 0


def _cmd_embed_code(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    try:
        print(embed_code(config.portal.url, size=args.size, colour=args.color))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    # Here, not at the top: the checks pull in aiohttp (the metrics port probe), which no staff
    # command needs.
    from agent.check.run import run_check

    return run_check(Path(args.config), timeout=args.timeout, as_user=args.as_user)


def _cmd_config_validate(args: argparse.Namespace) -> int:
    """Exit 0: usable (warnings allowed); 1: problems found; 2: the file cannot be read."""
    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        config = parse_config(raw)
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(f"error: {problem}")
        count = len(invalid.problems)
        print(f"{count} problem{'' if count == 1 else 's'}")
        return 1
    for warning in with_lines(config_warnings(config), raw.decode("utf-8-sig")):
        print(f"warning: {warning}")
    print(f"note: {identity_note(config)}")
    print("config OK")
    return 0


def add_run_commands(sub: Any) -> None:
    """init-keys, run and migrate on the top-level subparsers `sub`."""
    init_keys = sub.add_parser(
        "init-keys",
        help="create this agent's key pair and self-signed certificate; print its pin",
    )
    init_keys.add_argument(
        "dir", metavar="DIR", help="directory to write the key and certificate to"
    )
    init_keys.set_defaults(handler=_cmd_init_keys)

    run_parser = with_config(sub.add_parser("run", help="run the agent daemon (serves the link)"))
    run_parser.set_defaults(handler=_cmd_run)

    migrate = with_config(sub.add_parser("migrate", help="create or update Portico's tables"))
    migrate.set_defaults(handler=_cmd_migrate)


def add_check_commands(sub: Any) -> None:
    """embed-code and check on the top-level subparsers `sub`."""
    embed = with_config(
        sub.add_parser(
            "embed-code", help="print the Book Appointment button for the office's web site"
        )
    )
    embed.add_argument("--size", choices=["small", "medium", "large"], default="medium")
    embed.add_argument("--color", default="#1a5fb4", help="button colour, like #1a5fb4")
    embed.set_defaults(handler=_cmd_embed_code)

    check = with_config(
        sub.add_parser(
            "check",
            help="check this server is ready: config, keys, port, database, grants, mail, clock",
        )
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="how long to wait for whatever holds the link port to answer (default 3)",
    )
    check.add_argument(
        "--as-user",
        metavar="USER",
        help="test that this user can read the files the config names (default: the User= of "
        "the installed portico-agent.service, else portico); needs root",
    )
    check.set_defaults(handler=_cmd_check)


def add_config_commands(sub: Any) -> None:
    """The `config` group (config validate) on the top-level subparsers `sub`."""
    config = sub.add_parser("config", help="check the agent's configuration file")
    config.set_defaults(handler=lambda _args: config.print_help() or 0)
    config_sub = config.add_subparsers(title="config commands", metavar="COMMAND")
    validate = config_sub.add_parser(
        "validate", help="report every problem in a config file, with its line"
    )
    validate.add_argument("file", metavar="FILE", help="path to agent.yaml")
    validate.set_defaults(handler=_cmd_config_validate)
