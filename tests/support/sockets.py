"""Which TCP ports a process listens on, read from /proc: how a test proves "no open port".

A dial-out agent must open no listening socket at all (issue 15). Asking the agent object
would only repeat what it believes; the kernel's socket table is the ground truth: every
LISTEN entry of /proc/net/tcp and /proc/net/tcp6 whose inode is one of the process's file
descriptors.
"""

from __future__ import annotations

import os
from pathlib import Path

_LISTEN = "0A"  # TCP state in /proc/net/tcp


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def listening_ports(pid: int | None = None) -> set[int]:
    """The TCP ports process ``pid`` (default: this one) listens on, IPv4 and IPv6."""
    pid = os.getpid() if pid is None else pid
    inodes = _socket_inodes(pid)
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == _LISTEN and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
