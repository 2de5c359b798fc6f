"""``portico-agent``: the on-premise daemon's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from protocol.logconfig import configure_logging

COMMON_NAME = "portico-agent"


def _cmd_init_keys(args: argparse.Namespace) -> int:
    # Imported here so that `--help` and `run` work without the TLS stack loaded.
    from protocol.tls import write_identity

    directory = Path(args.dir)
    before = _snapshot(directory)
    pin = write_identity(directory, COMMON_NAME)
    print(pin)
    for path in sorted(p for p, stamp in _snapshot(directory).items() if before.get(p) != stamp):
        print(path)
    return 0


def _snapshot(directory: Path) -> dict[Path, tuple[int, int]]:
    """Files in ``directory`` with (mtime_ns, size), to report which ones a command wrote."""
    if not directory.is_dir():
        return {}
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in directory.iterdir() if p.is_file()}


def _cmd_run(args: argparse.Namespace) -> int:
    print("not yet: the agent daemon arrives with the booking issue")
    return 0


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

    run = sub.add_parser("run", help="run the agent daemon")
    run.add_argument("--config", default="/etc/portico/agent.yaml", help="path to agent.yaml")
    run.set_defaults(handler=_cmd_run)

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
        parser.print_help()
        return 0
    result: int = handler(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
