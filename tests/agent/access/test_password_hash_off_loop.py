"""Hashing runs on the hasher's bounded thread pool: the event loop keeps serving other work
while hashes are in progress (DESIGN.md: "hashed off the event loop")."""

from __future__ import annotations

import asyncio
import threading

import argon2
import pytest

from agent.access.passwords import PasswordHasher


async def test_the_loop_keeps_running_while_four_hashes_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = threading.Lock()
    running = 0
    most_at_once = 0
    started = 0
    hashing_threads: set[int] = set()
    real_hash = argon2.PasswordHasher.hash

    def counting_hash(self: argon2.PasswordHasher, password: str | bytes, **kw: bytes) -> str:
        nonlocal running, most_at_once, started
        with lock:
            running += 1
            started += 1
            most_at_once = max(most_at_once, running)
            hashing_threads.add(threading.get_ident())
        try:
            return real_hash(self, password, **kw)
        finally:
            with lock:
                running -= 1

    hasher = PasswordHasher(workers=2)  # production parameters: tens of ms per hash
    hasher._dummy.result()
    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting_hash)

    loop_thread = threading.get_ident()
    hashes = [asyncio.create_task(hasher.hash(f"password number {n}")) for n in range(4)]
    ticks_while_hashing = 0

    async def ticker() -> None:
        nonlocal ticks_while_hashing
        while not all(task.done() for task in hashes):
            if started and not any(task.done() for task in hashes):
                # A hash has begun and none has finished, yet this task is running.
                ticks_while_hashing += 1
            await asyncio.sleep(0.001)

    try:
        encoded, _ = await asyncio.gather(asyncio.gather(*hashes), ticker())
    finally:
        hasher.close()

    assert len(set(encoded)) == 4
    assert ticks_while_hashing >= 1
    assert loop_thread not in hashing_threads
    assert most_at_once <= 2  # the pool is bounded by `workers`
