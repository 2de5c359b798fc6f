"""One shared tick per event loop for the links' liveness checks (PING when quiet, dead when
silent too long), instead of a timer per link.

A proxy replica holds the links of thousands of offices, nearly all idle. With a timer per link,
every check allocated a timer handle and pushed it through the loop's heap; the tick walks a
dict of the links that are up instead (issue 14: idle CPU per link). A check runs every
``interval`` seconds as before, but in step with the other links on the same loop rather than
with the link's own handshake, so a dead link is still found between ``idle`` and ``idle +
interval`` seconds after its last frame.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Protocol


class Checked(Protocol):
    def check_liveness(self, now: float) -> None:
        """Called on every tick with the loop's time while the link is a member."""


class LivenessTick:
    """Calls ``check_liveness`` of each member every ``interval`` seconds from one timer, which
    runs only while there are members."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        # Weak: the registry below is keyed weakly by the loop, and a strong reference from
        # its value would keep every loop (one per test) alive for good.
        self._loop_ref = weakref.ref(loop)
        self.interval = interval
        self._members: dict[Checked, None] = {}  # insertion-ordered set
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._members)

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop_ref()
        if loop is None:  # only reachable through a tick kept past its loop's end
            raise RuntimeError("the event loop of this liveness tick is gone")
        return loop

    def add(self, member: Checked) -> None:
        self._members[member] = None
        if self._timer is None:
            self._timer = self._loop.call_later(self.interval, self._tick)

    def discard(self, member: Checked) -> None:
        self._members.pop(member, None)
        if not self._members and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        now = self._loop.time()
        for member in list(self._members):  # a check may close its link, and leave
            try:
                member.check_liveness(now)
            except Exception as exc:  # one link's bug must not stop the others' checks
                self._loop.call_exception_handler(
                    {"message": "liveness check failed", "exception": exc, "protocol": member}
                )
        if self._members and self._timer is None:
            self._timer = self._loop.call_later(self.interval, self._tick)


_ticks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, LivenessTick]] = (
    weakref.WeakKeyDictionary()
)


def liveness_tick(loop: asyncio.AbstractEventLoop, interval: float) -> LivenessTick:
    """The loop's tick for links checked every ``interval`` seconds (one per distinct value:
    links with other timeouts, as in tests, get their own)."""
    by_interval = _ticks.setdefault(loop, {})
    tick = by_interval.get(interval)
    if tick is None:
        tick = by_interval[interval] = LivenessTick(loop, interval)
    return tick


__all__ = ["Checked", "LivenessTick", "liveness_tick"]
