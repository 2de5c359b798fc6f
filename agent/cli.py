"""``portico-agent``: the on-premise daemon's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from protocol.entry_point import run_verb
from protocol.logconfig import configure_logging

if TYPE_CHECKING:
    from agent.config import AgentConfig

COMMON_NAME = "portico-agent"
DEFAULT_CONFIG = "/etc/portico/agent.yaml"


def _cmd_init_keys(args: argparse.Namespace) -> int:
    # Imported here so that `--help` works without the TLS stack loaded.
    from protocol.keys import init_keys_command

    return init_keys_command(Path(args.dir), COMMON_NAME)


def _load_config(path: str) -> AgentConfig | None:
    """The config, or None after printing every problem (the daemon never starts on a bad
    file)."""
    from agent.config import ConfigInvalid, load_config

    try:
        return load_config(Path(path))
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{path}: not started; run `portico-agent config validate {path}`", file=sys.stderr)
    return None


def _cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from agent.config import named_files, unreadable_files
    from agent.daemon import run

    config = _load_config(args.config)
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
    import pymysql

    from agent.db.migrate import MigrationError, apply_migrations
    from agent.wiring import database_settings

    config = _load_config(args.config)
    if config is None:
        return 1
    try:
        applied = apply_migrations(database_settings(config))
    except (MigrationError, pymysql.MySQLError) as exc:
        print(f"error: migration failed: {exc}", file=sys.stderr)
        return 1
    for name in applied:
        print(f"applied {name}")
    print("database schema is up to date")
    return 0


def _cmd_seed_demo(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC, datetime

    import pymysql

    from agent.access.passwords import PasswordHasher
    from agent.config import ConfigInvalid
    from agent.db.migrate import connect
    from agent.demo_portal import SOURCE_FORMS, seed_portal_demo
    from agent.demo_seed import DEMO_PASSWORD, DemoSeedRefused, create_demo_login, seed_demo
    from agent.wiring import database_settings

    config = _load_config(args.config)
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


def _cmd_embed_code(args: argparse.Namespace) -> int:
    from agent.embed import embed_code

    config = _load_config(args.config)
    if config is None:
        return 1
    try:
        print(embed_code(config.portal.url, size=args.size, colour=args.color))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from agent.check import run_check

    return run_check(Path(args.config), timeout=args.timeout, as_user=args.as_user)


def _cmd_config_validate(args: argparse.Namespace) -> int:
    """Exit 0: usable (warnings allowed); 1: problems found; 2: the file cannot be read."""
    from agent.config import ConfigInvalid, config_warnings, parse_config
    from agent.config_report import with_lines

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
    from agent.access.logins import identity_note

    print(f"note: {identity_note(config)}")
    print("config OK")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portico-agent",
        description="The Portico agent: the link endpoint next to the practice database.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    init_keys = sub.add_parser(
        "init-keys",
        help="create this agent's key pair and self-signed certificate; print its pin",
    )
    init_keys.add_argument(
        "dir", metavar="DIR", help="directory to write the key and certificate to"
    )
    init_keys.set_defaults(handler=_cmd_init_keys)

    run = sub.add_parser("run", help="run the agent daemon (serves the link)")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="path to agent.yaml")
    run.set_defaults(handler=_cmd_run)

    migrate = sub.add_parser("migrate", help="create or update Portico's tables")
    migrate.add_argument("--config", default=DEFAULT_CONFIG, help="path to agent.yaml")
    migrate.set_defaults(handler=_cmd_migrate)

    seed = sub.add_parser("seed-demo", help="fill an EMPTY database with a made-up demo practice")
    seed.add_argument("--config", default=DEFAULT_CONFIG, help="path to agent.yaml")
    seed.add_argument(
        "--forms-dir", help="forms to load for the demo (default: config/forms of the source)"
    )
    seed.set_defaults(handler=_cmd_seed_demo)

    embed = sub.add_parser(
        "embed-code", help="print the Book Appointment button for the office's web site"
    )
    embed.add_argument("--config", default=DEFAULT_CONFIG, help="path to agent.yaml")
    embed.add_argument("--size", choices=["small", "medium", "large"], default="medium")
    embed.add_argument("--color", default="#1a5fb4", help="button colour, like #1a5fb4")
    embed.set_defaults(handler=_cmd_embed_code)

    check = sub.add_parser(
        "check",
        help="check this server is ready: config, keys, port, database, grants, mail, clock",
    )
    check.add_argument("--config", default=DEFAULT_CONFIG, help="path to agent.yaml")
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

    from agent.staff_cli import add_staff_commands

    add_staff_commands(sub)

    config = sub.add_parser("config", help="check the agent's configuration file")
    config.set_defaults(handler=lambda _args: _print_help(config))
    config_sub = config.add_subparsers(title="config commands", metavar="COMMAND")
    validate = config_sub.add_parser(
        "validate", help="report every problem in a config file, with its line"
    )
    validate.add_argument("file", metavar="FILE", help="path to agent.yaml")
    validate.set_defaults(handler=_cmd_config_validate)
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


if __name__ == "__main__":
    raise SystemExit(main())
