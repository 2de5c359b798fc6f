"""Reading agent.yaml for a command: the one place every `portico-agent` verb loads its config.

A command given a bad file prints every problem and exits 1 without doing anything (the daemon
never starts on a bad file either). Every verb group imports this module; it imports none of
them, so the command line has no import circle.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.config import AgentConfig, ConfigInvalid, load_config

DEFAULT_CONFIG = "/etc/portico/agent.yaml"


def with_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`parser` with the `--config` option every verb that reads agent.yaml takes."""
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="path to agent.yaml")
    return parser


def load_or_report(path: str) -> AgentConfig | None:
    """The config, or None after printing every problem (the daemon never starts on a bad
    file)."""
    try:
        return load_config(Path(path))
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{path}: not started; run `portico-agent config validate {path}`", file=sys.stderr)
    return None
