"""Per-IP token buckets for the forms a password guesser or a mail bomber would hammer.

Kept in memory per process: replicas do not share counts, so the effective limit behind a load
balancer is (replicas x limit). That is fine for slowing a script down; the agent's own account
lockout is the real defence for any one account. Written by hand because it is twenty lines and
the libraries for it bring a store (Redis) the proxy must not have.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_TRACKED = 100_000  # distinct (action, ip) pairs remembered; the least recently seen go first


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`allow(key)` takes one token from key's bucket: refilled at `per_minute`, holding at
    most `capacity` (so that many attempts may come in quick succession).

    The dict of buckets is bounded (LRU eviction), so a flood of spoofed or rotating addresses
    costs a fixed amount of memory. An evicted address simply starts again with a full bucket.
    """

    def __init__(
        self,
        per_minute: float,
        capacity: int,
        *,
        max_tracked: int = MAX_TRACKED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or capacity < 1:
            raise ValueError("per_minute must be > 0 and capacity >= 1")
        self.rate = per_minute / 60.0
        self.capacity = float(capacity)
        self.max_tracked = max_tracked
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
            while len(self._buckets) > self.max_tracked:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def __len__(self) -> int:
        return len(self._buckets)
