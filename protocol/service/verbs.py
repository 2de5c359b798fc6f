"""What both programs' command lines do around every verb, so no verb can forget it.

- A closed pipe (``portico-agent audit | head -1``: ``head`` exits after its line) ends the
  verb quietly with status 141, what a shell reports for a program killed by SIGPIPE (``yes |
  head``). The recipe is the one in the Python docs (signal module, "Note on SIGPIPE"): flush
  inside the ``try``, then point stdout at /dev/null so the interpreter's own flush at exit
  cannot fail again.
- A file that cannot be read or written (a key, a certificate, a password file) is one line on
  stderr naming the file and the reason, status 1: office IT reads it in the journal, and a
  traceback would tell them nothing more.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

CLOSED_PIPE_STATUS = 128 + 13  # 128 + SIGPIPE, as the shell reports it
FILE_ERROR_STATUS = 1


def run_verb(verb: Callable[[], int]) -> int:
    """``verb()``'s status, or one of the statuses above."""
    try:
        status = verb()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_stdout()
        return CLOSED_PIPE_STATUS
    except OSError as exc:
        if exc.filename is None:
            raise  # not about a file: a bug, or a network error the verb should have handled
        print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return FILE_ERROR_STATUS


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a file descriptor (a test's capture): nothing left to flush
