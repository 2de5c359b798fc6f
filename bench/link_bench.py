"""Link benchmarks: the frame codec against hyperframe, a link round trip against bare TLS.

Budgets (DESIGN.md, "Performance budget"):

- Frame encode + decode throughput at least that of h2's framing (hyperframe) for equal payloads.
- A link round trip adds at most 30% to a bare TLS echo round trip on loopback.

Every number is printed next to a baseline measured in the same run, and the ratio is what
counts; nothing here asserts a wall-clock time. Client and server share one event loop in one
process, for the baseline and for the link alike, so both sides' CPU is in every round trip.

    .venv/bin/python -m bench.link_bench [--quick] [--profile]   (from the repo root)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import ssl
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperframe.frame import DataFrame
from hyperframe.frame import Frame as H2Frame

from protocol.aio import LinkClient, LinkServer, Request
from protocol.frames import DEFAULT_LIMITS, FrameDecoder, FrameType, encode_frame
from protocol.keys import write_identity
from protocol.service.logs import configure_logging
from protocol.tls import client_config, server_config

SIZES = (64, 1024, 16 * 1024, 64 * 1024)
H2_HEADER = 9
CONCURRENCY = 64


@dataclass(frozen=True)
class Row:
    measurement: str
    baseline: float
    ours: float
    ratio: float
    goal: str = ""  # ">= x" or "<= x" on the ratio; "" when DESIGN.md sets no budget

    @property
    def met(self) -> bool | None:
        if not self.goal:
            return None
        op, bound = self.goal.split()
        return self.ratio >= float(bound) if op == ">=" else self.ratio <= float(bound)


# -- part 1: framing -------------------------------------------------------------------------


def ours_encode(payload: bytes, stream_ids: list[int]) -> bytes:
    response = FrameType.RESPONSE
    return b"".join([encode_frame(response, 0, sid, payload) for sid in stream_ids])


def ours_decode(stream: bytes) -> list[Any]:
    return FrameDecoder(DEFAULT_LIMITS.max_frame).feed(stream)


def h2_encode(payload: bytes, stream_ids: list[int]) -> bytes:
    return b"".join([DataFrame(sid, data=payload).serialize() for sid in stream_ids])


def h2_decode(stream: bytes) -> list[Any]:
    # What h2's FrameBuffer does per frame: parse the 9-byte header, then the body.
    view = memoryview(stream)
    parse_header = H2Frame.parse_frame_header
    frames = []
    position, end = 0, len(view)
    while position < end:
        body = position + H2_HEADER
        frame, length = parse_header(view[position:body])
        position = body + length
        frame.parse_body(view[body:position])
        frames.append(frame)
    return frames


Codec = tuple[Callable[[bytes, list[int]], bytes], Callable[[bytes], list[Any]]]
CODECS: dict[str, Codec] = {"ours": (ours_encode, ours_decode), "h2": (h2_encode, h2_decode)}


def _payload_of(name: str, frame: Any) -> bytes:
    return frame.payload if name == "ours" else frame.data  # type: ignore[no-any-return]


def time_codec(name: str, payload: bytes, stream_ids: list[int]) -> tuple[float, float]:
    """One encode and one decode of len(stream_ids) frames: (encode s, decode s)."""
    encode, decode = CODECS[name]
    gc.collect()
    gc.disable()  # as timeit does: a collection landing in one codec's run is noise
    try:
        start = time.perf_counter()
        stream = encode(payload, stream_ids)
        encoded = time.perf_counter()
        frames = decode(stream)
        decoded = time.perf_counter()
    finally:
        gc.enable()
    # Outside the clock: both codecs really produced every frame with its payload.
    if len(frames) != len(stream_ids) or any(
        _payload_of(name, frames[i]) != payload for i in (0, -1)
    ):
        raise RuntimeError(f"{name} codec did not round-trip {len(payload)}-byte frames")
    return encoded - start, decoded - encoded


def bench_framing(quick: bool, repeats: int) -> list[Row]:
    target = (4 if quick else 32) * 1024 * 1024  # payload bytes per measurement
    max_frames = 20_000 if quick else 100_000
    rows = []
    print(f"Framing: encode N frames, decode them from one stream; best of {repeats}")
    print(
        f"  {'payload':>8} {'N':>7} | {'h2 MB/s':>9} {'frames/s':>10} | "
        f"{'ours MB/s':>9} {'frames/s':>10} | {'enc':>5} {'dec':>5} {'total':>5}"
    )
    for size in SIZES:
        n = max(64, min(max_frames, target // size))
        payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
        stream_ids = [2 * i + 1 for i in range(n)]
        runs: dict[str, list[tuple[float, float]]] = {"ours": [], "h2": []}
        for _ in range(repeats):
            for name in ("h2", "ours"):  # alternated, so drift hits both alike
                runs[name].append(time_codec(name, payload, stream_ids))
        best = {name: min(e + d for e, d in r) for name, r in runs.items()}
        enc = {name: min(e for e, _ in r) for name, r in runs.items()}
        dec = {name: min(d for _, d in r) for name, r in runs.items()}
        mbps = {name: n * size / best[name] / 1e6 for name in best}
        fps = {name: n / best[name] for name in best}
        ratio = best["h2"] / best["ours"]
        print(
            f"  {_size(size):>8} {n:>7} | {mbps['h2']:>9.0f} {fps['h2']:>10,.0f} | "
            f"{mbps['ours']:>9.0f} {fps['ours']:>10,.0f} | "
            f"{enc['h2'] / enc['ours']:>5.2f} {dec['h2'] / dec['ours']:>5.2f} {ratio:>5.2f}"
        )
        rows.append(
            Row(f"framing {_size(size)} enc+dec MB/s", mbps["h2"], mbps["ours"], ratio, ">= 1.0")
        )
    print("  (enc/dec/total columns: ours/h2 speed ratios; MB/s counts payload bytes)\n")
    return rows


def _size(size: int) -> str:
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


# -- part 2: round trips ---------------------------------------------------------------------


def request_bytes(i: int) -> bytes:
    # About what a link REQUEST carries for the same call: a small JSON object.
    return (
        b'{"method":"bench.echo","params":{"n":%d},"session":null,'
        b'"idempotency_key":null,"deadline_ms":null,"client":null}' % i
    )


class EchoServer(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class EchoClient(asyncio.Protocol):
    """Sends one message, resolves when as many bytes have come back."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.expected = 0
        self.waiter: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        if self.waiter is not None and len(self.received) >= self.expected:
            self.waiter.set_result(bytes(self.received))
            self.received.clear()
            self.waiter = None

    async def echo(self, message: bytes) -> bytes:
        self.expected = len(message)
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(message)
        return await self.waiter


class Fixture:
    """A bare TLS 1.3 echo server and a link server on loopback, with their clients."""

    def __init__(self, directory: Path) -> None:
        agent_pin = write_identity(directory / "agent", "agent")
        proxy_pin = write_identity(directory / "proxy", "proxy")
        self.agent_key, self.agent_cert = directory / "agent/key.pem", directory / "agent/cert.pem"
        self.link_server_tls = server_config(self.agent_key, self.agent_cert, [proxy_pin])
        self.link_client_tls = client_config(
            directory / "proxy/key.pem", directory / "proxy/cert.pem", [agent_pin]
        )
        self.ssl_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_server.minimum_version = ssl.TLSVersion.TLSv1_3
        self.ssl_server.load_cert_chain(self.agent_cert, self.agent_key)
        self.ssl_client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ssl_client.minimum_version = ssl.TLSVersion.TLSv1_3
        self.ssl_client.check_hostname = False
        self.ssl_client.verify_mode = ssl.CERT_NONE  # the baseline measures records, not trust
        self.echo_clients: list[EchoClient] = []
        self.link_clients: list[LinkClient] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.echo_server = await loop.create_server(EchoServer, "127.0.0.1", 0, ssl=self.ssl_server)
        self.echo_port = self.echo_server.sockets[0].getsockname()[1]

        async def handler(request: Request) -> dict[str, Any]:
            return {"echo": request.params}

        self.link_server = LinkServer(
            handler,
            tls=self.link_server_tls,
            on_hello=lambda hello: {"name": "Bench"},
            agent_version="bench",
            allowed_networks=["127.0.0.0/8"],
        )
        await self.link_server.start("127.0.0.1", 0)

    async def echo_client(self) -> EchoClient:
        _, client = await asyncio.get_running_loop().create_connection(
            EchoClient, "127.0.0.1", self.echo_port, ssl=self.ssl_client, server_hostname="agent"
        )
        self.echo_clients.append(client)
        return client

    async def link_client(self) -> LinkClient:
        client = await LinkClient.connect(
            "127.0.0.1",
            self.link_server.port,
            tls=self.link_client_tls,
            tenant="bench",
            requester_id="bench",
        )
        self.link_clients.append(client)
        return client

    async def close(self) -> None:
        for echo in self.echo_clients:
            echo.transport.close()
        for link in self.link_clients:
            await link.close()
        await self.link_server.close(grace=1.0)
        self.echo_server.close()
        await self.echo_server.wait_closed()


Call = Callable[[int], Awaitable[Any]]


async def timed_calls(call: Call, first: int, count: int) -> list[float]:
    """Sequential calls; each one's round trip in microseconds."""
    clock = time.perf_counter_ns
    samples = []
    for i in range(first, first + count):
        start = clock()
        await call(i)
        samples.append((clock() - start) / 1000)
    return samples


def bare_call(client: EchoClient) -> Call:
    async def call(i: int) -> None:
        message = request_bytes(i)
        if await client.echo(message) != message:
            raise RuntimeError("bare echo returned other bytes")

    return call


def link_call(client: LinkClient) -> Call:
    async def call(i: int) -> None:
        if (await client.request("bench.echo", {"n": i}))["echo"]["n"] != i:
            raise RuntimeError("link echo returned another answer")

    return call


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


async def bench_sequential(fx: Fixture, n: int, warmup: int, rounds: int) -> list[Row]:
    calls = {"bare": bare_call(await fx.echo_client()), "link": link_call(await fx.link_client())}
    samples: dict[str, list[float]] = {"bare": [], "link": []}
    for call in calls.values():
        await timed_calls(call, 0, warmup)
    per_round = n // rounds
    for r in range(rounds):  # alternated in rounds, so drift hits both alike
        for name, call in calls.items():
            samples[name] += await timed_calls(call, r * per_round, per_round)
    stats = {k: (statistics.median(v), p99(v)) for k, v in samples.items()}
    print(f"Round trip, sequential: {len(samples['bare'])} calls each after {warmup} warm-up")
    for name, (median, tail) in stats.items():
        print(f"  {name:>4}: median {median:7.1f} us   p99 {tail:7.1f} us")
    print()
    (bare_median, bare_p99), (link_median, link_p99) = stats["bare"], stats["link"]
    return [
        Row(
            "round trip median (us)", bare_median, link_median, link_median / bare_median, "<= 1.3"
        ),
        Row("round trip p99 (us)", bare_p99, link_p99, link_p99 / bare_p99),
    ]


async def run_concurrent(calls: list[Call], per_caller: int) -> tuple[float, list[float]]:
    """Each caller runs per_caller sequential calls, all at once: (req/s, latencies in us)."""
    start = time.perf_counter()
    results = await asyncio.gather(
        *(timed_calls(call, k * per_caller, per_caller) for k, call in enumerate(calls))
    )
    elapsed = time.perf_counter() - start
    latencies = [s for r in results for s in r]
    return len(latencies) / elapsed, latencies


async def bench_concurrent(fx: Fixture, per_caller: int, rounds: int) -> list[Row]:
    # The baseline gets a connection per caller; the link multiplexes every caller on one.
    echo_clients = [await fx.echo_client() for _ in range(CONCURRENCY)]
    link = await fx.link_client()
    calls = {
        "bare": [bare_call(c) for c in echo_clients],
        "link": [link_call(link)] * CONCURRENCY,
    }
    rates: dict[str, list[float]] = {"bare": [], "link": []}
    latencies: dict[str, list[float]] = {"bare": [], "link": []}
    for group in calls.values():
        await run_concurrent(group, max(1, per_caller // 5))  # warm-up
    for _ in range(rounds):
        for name, group in calls.items():
            throughput, samples = await run_concurrent(group, per_caller)
            rates[name].append(throughput)
            latencies[name] += samples
    print(
        f"Round trip, {CONCURRENCY} concurrent callers x {per_caller} calls, "
        f"median of {rounds} rounds (bare: {CONCURRENCY} TLS connections; link: one)"
    )
    rate = {k: statistics.median(v) for k, v in rates.items()}
    for name in calls:
        print(f"  {name:>4}: {rate[name]:9,.0f} req/s   p99 {p99(latencies[name]):8.1f} us")
    print()
    name = f"{CONCURRENCY} concurrent (req/s)"
    return [Row(name, rate["bare"], rate["link"], rate["link"] / rate["bare"])]


async def bench_round_trips(args: argparse.Namespace) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="link-bench-") as tmp:
        fx = Fixture(Path(tmp))
        await fx.start()
        try:
            if args.profile:
                await profile_link(fx, args.n)
                return []
            rows = await bench_sequential(fx, args.n, args.warmup, rounds=3)
            rows += await bench_concurrent(fx, args.per_caller, rounds=3)
        finally:
            await fx.close()
    return rows


async def profile_link(fx: Fixture, n: int) -> None:
    """cProfile over sequential link round trips (client and server share the loop)."""
    call = link_call(await fx.link_client())
    await timed_calls(call, 0, 300)
    profiler = cProfile.Profile()
    profiler.enable()
    await timed_calls(call, 0, n)
    profiler.disable()
    # cProfile slows pure-Python code far more than C code: read it for where, not how much.
    for key, restriction, title in (
        ("tottime", (20,), "all functions, by own time"),
        ("tottime", ("protocol/", 25), "protocol/, by own time"),
        ("cumulative", ("protocol/", 25), "protocol/, by cumulative time"),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(*restriction)
        print(f"-- link round trip x {n}: {title} --")
        print(out.getvalue().split("\n\n", 1)[-1].strip(), end="\n\n")


# -- report ----------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:,.1f}"


def print_table(rows: list[Row]) -> None:
    headers = ("measurement", "baseline", "ours", "ratio", "goal", "met")
    status = {None: "", True: "ok", False: "MISSED"}
    table = [
        (r.measurement, _number(r.baseline), _number(r.ours), f"{r.ratio:.2f}",
         r.goal or "(info)", status[r.met])
        for r in rows
    ]  # fmt: skip
    widths = [max(len(x) for x in column) for column in zip(headers, *table, strict=True)]
    rule = "  ".join("-" * w for w in widths)
    print("Summary. Baseline: hyperframe for framing, a stdlib-ssl TLS 1.3 echo for round trips.")
    print("Ratio: ours/h2 speed (framing), link/bare time (round trips), link/bare req/s (64).")
    print(rule)
    for i, cells in enumerate([headers, *table]):
        aligned = (
            c.rjust(w) if 0 < j < 4 else c.ljust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        print("  ".join(aligned).rstrip())
        if i == 0:
            print(rule)
    print(rule)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    parser.add_argument(
        "--profile", action="store_true", help="only cProfile the sequential link round trip"
    )
    args = parser.parse_args()
    args.n, args.warmup, args.per_caller = (600, 100, 20) if args.quick else (3000, 300, 100)
    configure_logging("warning")
    started = time.perf_counter()
    rows = [] if args.profile else bench_framing(args.quick, repeats=3 if args.quick else 5)
    rows += asyncio.run(bench_round_trips(args))
    if rows:
        print_table(rows)
    print(f"\n(took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
