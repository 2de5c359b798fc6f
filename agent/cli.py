"""``portico-agent``: the on-premise daemon's command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from protocol.logconfig import configure_logging

COMMON_NAME = "portico-agent"


def _init_keys(args: argparse.Namespace) -> int:
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


def _run(args: argparse.Namespace) -> int:
    print("not yet: the agent daemon arrives with the booking issue")
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
    init_keys.set_defaults(handler=_init_keys)

    run = sub.add_parser("run", help="run the agent daemon")
    run.add_argument("--config", default="/etc/portico/agent.yaml", help="path to agent.yaml")
    run.set_defaults(handler=_run)
    return parser


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
