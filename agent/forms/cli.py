"""Staff commands `portico-agent forms ...` (filled in by the forms work)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_commands(
    sub: Any, with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
) -> None:
    """Register the `forms` command group on the top-level subparsers `sub`."""
