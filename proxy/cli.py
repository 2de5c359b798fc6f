"""``portico-proxy``: the hosted web proxy's command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from protocol.logconfig import configure_logging

COMMON_NAME = "portico-proxy"


def _init_keys(args: argparse.Namespace) -> int:
    # Imported here so that `--help` and `serve` work without the TLS stack loaded.
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


def _serve(args: argparse.Namespace) -> int:
    print("not yet: the proxy arrives with the proxy issue")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portico-proxy",
        description="The Portico proxy: the patient-facing web site.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    init_keys = sub.add_parser(
        "init-keys",
        help="create this proxy's key pair and self-signed certificate; print its pin",
    )
    init_keys.add_argument(
        "dir", metavar="DIR", help="directory to write the key and certificate to"
    )
    init_keys.set_defaults(handler=_init_keys)

    serve = sub.add_parser("serve", help="serve the patient portal")
    serve.add_argument("--config", default="/etc/portico/proxy.yaml", help="path to proxy.yaml")
    serve.set_defaults(handler=_serve)
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
