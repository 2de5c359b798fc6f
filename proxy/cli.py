"""``portico-proxy``: the hosted web proxy's command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from protocol.service.logs import configure_logging
from protocol.service.verbs import run_verb

COMMON_NAME = "portico-proxy"


def _init_keys(args: argparse.Namespace) -> int:
    # Imported here so that `--help` works without the TLS stack loaded.
    from protocol.keys import init_keys_command

    return init_keys_command(Path(args.dir), COMMON_NAME)


def _serve(args: argparse.Namespace) -> int:
    # Imported here: only this verb needs the app (aiohttp, templates, the agents' link).
    from proxy.config import ConfigInvalid, load_proxy_config
    from proxy.serve import StartupError, run_proxy

    try:
        config = load_proxy_config(args.config)
    except OSError as exc:
        print(f"error: cannot read {args.config}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{args.config}: not started", file=sys.stderr)
        return 1
    configure_logging(config.logging.level)
    try:
        asyncio.run(run_proxy(config, config_path=Path(args.config)))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"{args.config}: not started", file=sys.stderr)
        return 1
    return 0


def _link_check(args: argparse.Namespace) -> int:
    # Imported here so that `--help` and the other verbs work without the link and TLS stack.
    from proxy.link_check import run_link_check

    ok, message = run_link_check(
        args.agent,
        tenant=args.tenant,
        key=Path(args.key),
        cert=Path(args.cert),
        agent_pin=args.agent_pin,
    )
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _check(args: argparse.Namespace) -> int:
    # Imported here: the checks load the config model, x509 and the link (about 0.4 s), which
    # `--help` and the other verbs do not need.
    from proxy.check import run_check

    return run_check(Path(args.config), timeout=args.timeout)


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

    check = sub.add_parser(
        "link-check", help="connect to an agent over the link and ask it who it is"
    )
    check.add_argument("--agent", required=True, metavar="HOST:PORT", help="the agent's address")
    check.add_argument("--tenant", required=True, help="the practice's subdomain")
    check.add_argument("--key", required=True, help="this proxy's key.pem")
    check.add_argument("--cert", required=True, help="this proxy's cert.pem")
    check.add_argument("--agent-pin", required=True, help="the agent's pin (sha256/...)")
    check.set_defaults(handler=_link_check)

    config_check = sub.add_parser(
        "check",
        help="check this replica is ready: config, keys, certificate, port, every office's agent",
    )
    config_check.add_argument(
        "--config", default="/etc/portico/proxy.yaml", help="path to proxy.yaml"
    )
    config_check.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="give up on an agent after this long (default 10)",
    )
    config_check.set_defaults(handler=_check)
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
