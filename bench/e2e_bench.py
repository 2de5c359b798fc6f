"""End-to-end benchmark: patient pages through the link vs the same handlers behind an HTTPS relay.

Budget (DESIGN.md, "Performance budget"): a patient page through proxy -> link -> agent ->
MariaDB reaches at least 1.5x the throughput of the same handlers behind a plain HTTPS
keep-alive relay (aiohttp client -> aiohttp server), with no worse p99, at 64 concurrent
clients. Both are measured here in one run, in alternating rounds, and only the ratios count;
nothing asserts a wall-clock time.

Two pages, each with 64 keep-alive clients (--clients), one signed-in patient and cookie each:

- ``GET /appointments``: appointments.list + practice.info; each patient has a few
  appointments, past and upcoming, in a demo practice (agent/demo/practice.py);
- ``GET /book?type=T&provider=P``: the booking step that shows two weeks of free days, which
  calls practice.info, booking.appointment_types, booking.providers and booking.availability.

Process layout, the same for both paths; each hop is loopback TCP:

    bench process   load generator: one aiohttp ClientSession, 64 workers, keep-alive
        |  plain HTTP, Host: example-clinic.localhost
    front process   proxy/app.py's create_app(config), twice, on two ports:
        |             ours:     agents = AgentConnections (one multiplexed mTLS link)
        |             baseline: agents = RelayAgents (below): each agent call is a POST over a
        |                       pooled HTTPS keep-alive aiohttp ClientSession (limit 64)
    back process    one agent (agent/daemon.py: one Database pool, one AgentMethods) serving
        |             ours:     its LinkServer
        |             baseline: an aiohttp HTTPS server calling the same AgentMethods
    MariaDB         a throwaway database, dropped at the end

Pages, templates, middlewares, handlers and database are the same code in the same processes
on both paths, and a preflight checks that both return byte-identical pages; the only
difference is the hop between front and back. The proxy and the agent each get their own
process, as in production. All processes (and MariaDB) share this machine's cores, equally on
both paths.

Besides req/s and latency, each path's CPU time per page is printed for every process (the
bench's own, front, back, and the whole MariaDB server, which counts anything else it serves
too). Where all of them share a few cores, throughput follows their sum; where one process
has cores of its own and is the bottleneck, the req/s ratio tends to the inverse of its CPU
ratio, which the summary shows for the front and the back.

    .venv/bin/python -m bench.e2e_bench [--quick] [--profile] [--clients 64]   (from the repo root)

Uses the MariaDB the tests use (PORTICO_TEST_DB_* or root@127.0.0.1:3306).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import itertools
import multiprocessing
import os
import pstats
import secrets
import ssl
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import aiohttp
import pymysql
import structlog
from aiohttp import web

from agent.access import queries
from agent.clock import FixedClock
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from agent.demo.practice import seed_demo
from agent.rpc import AgentMethods
from protocol.aio import LinkError, RemoteError, Request
from protocol.errors import ErrorCode
from protocol.keys import write_identity
from protocol.service.logs import configure_logging
from proxy.agents import AgentConnections, AgentUnavailable
from proxy.app import create_app
from proxy.config import ProxyConfig
from proxy.security import PRE_COOKIE, SESSION_COOKIE
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup
from tests.support.database import configured_server, connect, fresh_database
from tests.support.keys import make_keys
from tests.support.practice import NOW, TIMEZONE, agent_config

ROOT = Path(__file__).resolve().parent.parent
HOST = f"{SUBDOMAIN}.localhost"
PATHS = ("baseline", "ours")
log = structlog.get_logger("portico.bench")


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


# -- the baseline's hop: an HTTPS keep-alive relay in front of the same AgentMethods ---------


class RelayAgents:
    """Stands in for proxy.agents.AgentConnections in the baseline's proxy app: the same
    request()/practice()/close(), each request a JSON POST to RelayBackend over a pooled
    HTTPS keep-alive connection."""

    def __init__(self, url: str, tls: ssl.SSLContext, limit: int) -> None:
        self._url = url
        self._tls = tls
        self._limit = limit
        self._practice: dict[str, Any] = {}

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._tls)
        self._session = aiohttp.ClientSession(connector=connector)
        async with self._session.get(f"{self._url}/hello") as response:  # as the link's WELCOME
            self._practice = await response.json()

    async def request(
        self,
        tenant: str,
        method: str,
        params: dict[str, Any],
        *,
        session: str | None = None,
        idempotency_key: str | None = None,
        client: dict[str, Any] | None = None,
        deadline: float = 10.0,
    ) -> Any:
        body = {
            "tenant": tenant,
            "method": method,
            "params": params,
            "session": session,
            "idempotency_key": idempotency_key,
            "deadline_ms": int(deadline * 1000),
            "client": client,
        }
        try:
            async with asyncio.timeout(deadline):
                async with self._session.post(f"{self._url}/rpc", json=body) as response:
                    answer = await response.json()
        except TimeoutError:
            raise RemoteError(ErrorCode.DEADLINE_EXCEEDED, "took too long") from None
        except aiohttp.ClientError as exc:
            raise AgentUnavailable(tenant, type(exc).__name__) from None
        error = answer.get("error")
        if error is not None:
            raise RemoteError(
                error["code"], error["message"], retryable=error["retryable"], details=None
            )
        return answer["result"]

    def practice(self, tenant: str) -> dict[str, Any] | None:
        return dict(self._practice)

    async def close(self) -> None:
        await self._session.close()


class RelayBackend:
    """The relay's server side: what LinkServer does with a REQUEST (a Request, the handler
    under the requester's deadline, LinkError as an error answer), over HTTPS instead."""

    def __init__(self, methods: AgentMethods, practice: dict[str, Any], tenant: str) -> None:
        self.methods = methods
        self.practice = practice
        self.tenant = tenant
        self._ids = itertools.count(1, 2)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/hello", self.hello)
        app.router.add_post("/rpc", self.rpc)
        return app

    async def hello(self, request: web.Request) -> web.Response:
        return web.json_response(self.practice)

    async def rpc(self, request: web.Request) -> web.Response:
        body = await request.json()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + body["deadline_ms"] / 1000
        call = Request(
            stream_id=next(self._ids),
            method=body["method"],
            params=body["params"],
            session=body["session"],
            idempotency_key=body["idempotency_key"],
            deadline=deadline,
            client=body["client"],
            tenant=body["tenant"],
            peer_pin="",
        )
        try:
            if call.tenant.lower() != self.tenant:
                raise LinkError(ErrorCode.FORBIDDEN, "this agent serves another practice")
            async with asyncio.timeout_at(deadline):
                result = await self.methods(call)
        except LinkError as exc:
            return _error(exc.code, exc.message, exc.retryable)
        except TimeoutError:
            return _error(ErrorCode.DEADLINE_EXCEEDED, "the request took too long", True)
        except Exception:
            log.exception("relay.handler_failed", method=call.method)
            return _error(ErrorCode.INTERNAL, "something went wrong", False)
        return web.json_response({"result": result})


def _error(code: str, message: str, retryable: bool) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "retryable": retryable}})


# -- the child processes -----------------------------------------------------------------------


def _child(conn: Connection, serve: Callable[..., Any], spec: dict[str, Any]) -> None:
    """Entry point of the front and back processes: serve until the parent says stop."""
    try:
        with open(spec["log_file"], "a") as stream:
            configure_logging(spec["log_level"], stream=stream)
            asyncio.run(serve(conn, spec))
    except BaseException:
        conn.send(("failed", traceback.format_exc()))
        raise


async def _obey(conn: Connection) -> None:
    """Answer the parent's commands until "stop": CPU time used so far, and cProfile of this
    process's event-loop thread (the database's threads are not in it)."""
    loop = asyncio.get_running_loop()
    profiler: cProfile.Profile | None = None
    while True:
        try:
            command = await loop.run_in_executor(None, conn.recv)
        except EOFError:
            return  # the parent is gone
        if command == "stop":
            return
        if command == "cpu":
            conn.send(time.process_time())
        elif command == "profile_start":
            profiler = cProfile.Profile()
            profiler.enable()
        elif command == "profile_stop":
            assert profiler is not None
            profiler.disable()
            conn.send(_profile_report(profiler))


async def _serve_back(conn: Connection, spec: dict[str, Any]) -> None:
    keys = Path(spec["keys"])
    config = agent_config(DatabaseSettings(**spec["database"]), keys)
    # A fixed clock, so the sessions made for NOW stay fresh; the default (production) password
    # hasher, which no page measured here uses.
    agent = Agent.build(config, clock=FixedClock(NOW))
    await agent.start(port=0)
    practice = config.practice
    backend = RelayBackend(
        agent.methods,
        {"name": practice.name, "phone": practice.phone, "timezone": practice.timezone},
        practice.subdomain,
    )
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(spec["relay_cert"], spec["relay_key"])
    # No access log here: the link does not log per request either.
    runner = web.AppRunner(backend.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls).start()
    conn.send(("ready", {"link": agent.server.port, "relay": runner.addresses[0][1]}))
    try:
        await _obey(conn)
    finally:
        await runner.cleanup()
        await agent.stop(grace=5)


async def _serve_front(conn: Connection, spec: dict[str, Any]) -> None:
    setup = ProxySetup(Path(spec["keys"]), Path(spec["directory"]))
    config = ProxyConfig.model_validate(
        setup.data({SUBDOMAIN: setup.tenant("127.0.0.1", spec["link_port"])})
    )
    link = AgentConnections(config, requester_id="e2e-bench")
    # The relay checks the backend's self-signed certificate (it is the only trust anchor);
    # it names no host, so the name check is off.
    tls = ssl.create_default_context(cafile=spec["relay_cert"])
    tls.check_hostname = False
    relay = RelayAgents(f"https://127.0.0.1:{spec['relay_port']}", tls, spec["relay_limit"])
    await relay.start()
    runners = {
        "ours": web.AppRunner(create_app(config, agents=link), access_log=None),
        "baseline": web.AppRunner(
            create_app(config, agents=cast(AgentConnections, relay)), access_log=None
        ),
    }
    ports = {}
    for name, runner in runners.items():
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        ports[name] = runner.addresses[0][1]
    conn.send(("ready", ports))
    try:
        await _obey(conn)
    finally:
        for runner in runners.values():
            await runner.cleanup()
        await link.close()
        await relay.close()


class Child:
    """A front or back process and the pipe it takes commands on."""

    def __init__(self, name: str, serve: Callable[..., Any], spec: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")  # no forked event loop or DB pool
        self.name = name
        self.conn, theirs = context.Pipe()
        self.process = context.Process(
            target=_child, args=(theirs, serve, spec), name=f"e2e-{name}", daemon=True
        )
        self.process.start()
        self.ready: dict[str, int] = self._answer(timeout=120)

    def _answer(self, timeout: float = 60) -> Any:
        if not self.conn.poll(timeout):
            raise RuntimeError(f"the {self.name} process did not answer in {timeout:.0f} s")
        answer = self.conn.recv()
        if isinstance(answer, tuple) and answer and answer[0] == "failed":
            raise RuntimeError(f"the {self.name} process failed:\n{answer[1]}")
        return answer[1] if isinstance(answer, tuple) else answer

    def cpu(self) -> float:
        self.conn.send("cpu")
        return float(self._answer())

    def profile_start(self) -> None:
        self.conn.send("profile_start")

    def profile_stop(self) -> str:
        self.conn.send("profile_stop")
        return str(self._answer())

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # the pipe is gone with the process
                self.conn.send("stop")
            self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()  # this process's own child, by its handle
            self.process.join(timeout=5)


# -- the practice ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Practice:
    sessions: list[str]  # one signed-in patient per client
    bookable: list[tuple[int, int]]  # (appointment type, provider) pairs bookable online
    appointments: list[int]  # how many each client's patient has


def seed_practice(settings: DatabaseSettings, clients: int) -> Practice:
    """The demo practice, plus a signed-in session (made as sign-in makes one, without an
    argon2 hash each) for `clients` patients who have between 2 and 6 appointments, at least
    one of them upcoming and one past."""
    connection = connect(settings)
    with connection:
        seed_demo(connection, now=NOW, timezone=TIMEZONE, patients=max(300, 5 * clients))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT patient_id, COUNT(*) FROM appointments GROUP BY patient_id HAVING"
                " COUNT(*) BETWEEN 2 AND 6 AND SUM(starts_at >= %s) BETWEEN 1 AND COUNT(*) - 1"
                " ORDER BY patient_id LIMIT %s",
                (queries.utc(NOW), clients),
            )
            patients = list(cursor.fetchall())
            if len(patients) < clients:
                raise SystemExit(f"the demo practice has {len(patients)} suitable patients")
            sessions = []
            for patient, _ in patients:
                account = queries.create_account(
                    cursor,
                    patient_id=patient,
                    email=f"bench{patient}@example.org",
                    login_email=f"bench{patient}@example.org",
                    username=None,
                    status="active",
                    access_enabled=True,
                    now=NOW,
                )
                token, _ = queries.create_session(
                    cursor, account, NOW, timedelta(hours=12), "127.0.0.1"
                )
                sessions.append(token)
            cursor.execute(
                "SELECT t.appointment_type_id, t.provider_id FROM provider_appointment_types t"
                " JOIN appointment_types a ON a.id = t.appointment_type_id"
                " JOIN providers p ON p.id = t.provider_id"
                " WHERE a.online_bookable AND p.active AND p.online_booking ORDER BY 1, 2"
            )
            bookable = [(int(t), int(p)) for t, p in cursor.fetchall()]
    return Practice(sessions, bookable, [int(n) for _, n in patients])


# -- load --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    urls: list[str]  # one per client
    marker: bytes  # in every good answer (a broken page must not count as a fast one)


@dataclass
class Result:
    rate: float  # completed requests per second in the measured window
    latencies: list[float]  # seconds, of the requests completed in the window
    completed: int  # warm-up and the tail after the window included (for CPU per page)


class Load:
    """Keep-alive clients on one aiohttp ClientSession, each with its own cookies."""

    def __init__(self, sessions: list[str]) -> None:
        self.headers = [
            {
                "Host": HOST,
                "User-Agent": "Mozilla/5.0 (e2e bench)",
                # What a browser sends after its first visit: the session and the pre-session
                # cookie (without which every page would mint and set a new one).
                "Cookie": f"{SESSION_COOKIE}={token}; {PRE_COOKIE}={secrets.token_urlsafe(32)}",
            }
            for token in sessions
        ]

    async def __aenter__(self) -> Load:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=len(self.headers)),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.session.close()

    async def get(self, port: int, url: str, client: int) -> tuple[int, bytes]:
        async with self.session.get(
            f"http://127.0.0.1:{port}{url}", headers=self.headers[client], allow_redirects=False
        ) as response:
            return response.status, await response.read()

    async def run(self, port: int, work: Workload, warmup: int, count: int) -> Result:
        """Every client requests its page in a loop. The first `warmup` completions are not
        measured; the next `count` are, so all clients are busy for the whole window."""
        clock = time.perf_counter
        latencies: list[float] = []
        window = [0.0, 0.0]
        completed = 0
        stop = False

        async def client(i: int) -> None:
            nonlocal completed, stop
            url = work.urls[i]
            while not stop:
                began = clock()
                status, body = await self.get(port, url, i)
                ended = clock()
                if status != 200 or work.marker not in body:
                    raise RuntimeError(f"{work.name}: {url} answered {status}: {_title(body)}")
                completed += 1
                if completed == warmup:
                    window[0] = ended
                elif completed > warmup and not stop:
                    latencies.append(ended - began)
                    if len(latencies) == count:
                        window[1] = ended
                        stop = True

        async with asyncio.TaskGroup() as group:
            for i in range(len(work.urls)):
                group.create_task(client(i))
        return Result(count / (window[1] - window[0]), latencies, completed)


def _title(body: bytes) -> str:
    start = body.find(b"<title>")
    return body[start + 7 : body.find(b"</title>")].decode(errors="replace") if start >= 0 else ""


def _mariadb_pid() -> int | None:
    """MariaDB's process, when it runs on this machine and /proc shows it (for CPU time)."""
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() in ("mariadbd", "mysqld"):
                return int(stat.parent.name)
        except OSError:
            continue
    return None


def _cpu_of(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Bench:
    def __init__(self, load: Load, front: Child, back: Child) -> None:
        self.load = load
        self.front = front
        self.back = back
        self.mariadb = _mariadb_pid()

    def cpu(self) -> dict[str, float]:
        return {
            "load": time.process_time(),
            "front": self.front.cpu(),
            "back": self.back.cpu(),
            "mariadb": _cpu_of(self.mariadb),
        }

    async def preflight(self, work: Workload) -> None:
        """Both paths give every client the same page, byte for byte: the same work is done
        above the hop on both, and the hop is all that differs."""
        for i, url in enumerate(work.urls):
            pages = {p: await self.load.get(self.front.ready[p], url, i) for p in PATHS}
            for path, (status, body) in pages.items():
                if status != 200 or work.marker not in body:
                    raise RuntimeError(f"{path} {url} answered {status}: {_title(body)}")
            if pages["ours"] != pages["baseline"]:
                raise RuntimeError(f"{url}: the two paths rendered different pages")

    async def measure(self, work: Workload, count: int, rounds: int) -> list[Row]:
        clients = len(work.urls)
        for path in PATHS:  # the link is dialled, the relay's pool filled, caches warmed
            await self.load.run(self.front.ready[path], work, 4 * clients, clients)
        per_round = max(1, count // rounds)
        results: dict[str, list[Result]] = {p: [] for p in PATHS}
        cpu: dict[str, dict[str, float]] = {p: {} for p in PATHS}
        wall = dict.fromkeys(PATHS, 0.0)
        for r in range(rounds):  # alternated, so drift and neighbours hit both alike
            for path in PATHS if r % 2 == 0 else PATHS[::-1]:
                before, started = self.cpu(), time.perf_counter()
                result = await self.load.run(self.front.ready[path], work, clients, per_round)
                wall[path] += time.perf_counter() - started
                after = self.cpu()
                for k in before:
                    cpu[path][k] = cpu[path].get(k, 0.0) + (after[k] - before[k])
                cpu[path]["pages"] = cpu[path].get("pages", 0.0) + result.completed
                results[path].append(result)
        return self._report(work, results, cpu, wall)

    def _report(
        self,
        work: Workload,
        results: dict[str, list[Result]],
        cpu: dict[str, dict[str, float]],
        wall: dict[str, float],
    ) -> list[Row]:
        stats = {}
        print(f"{work.name}: {len(work.urls)} clients, {len(results['ours'])} round(s)")
        for path in PATHS:
            samples = [s * 1000 for r in results[path] for s in r.latencies]
            # Pooled: all measured requests over all measured time.
            rate = len(samples) / sum(len(r.latencies) / r.rate for r in results[path])
            cuts = statistics.quantiles(samples, n=100, method="inclusive")
            stats[path] = (rate, cuts[49], cuts[98])
            used, pages = cpu[path], cpu[path]["pages"]
            per_page = "  ".join(
                f"{k} {used[k] / pages * 1000:.2f}" for k in ("load", "front", "back", "mariadb")
            )
            cores = sum(used[k] for k in ("load", "front", "back", "mariadb")) / wall[path]
            rounds = " ".join(f"{r.rate:.0f}" for r in results[path])
            print(
                f"  {path:>8}: {rate:7.1f} req/s (rounds: {rounds})   p50 {cuts[49]:6.1f} ms   "
                f"p99 {cuts[98]:6.1f} ms   n={len(samples)}"
            )
            print(f"            CPU ms/page: {per_page}   (cores busy {cores:.2f})")
        # Each round ran both paths back to back: its ratio shows how steady the machine was.
        paired = (o.rate / b.rate for b, o in zip(*results.values(), strict=True))
        print(f"  ours/baseline req/s by round: {' '.join(f'{r:.2f}' for r in paired)}\n")
        (b_rate, b_p50, b_p99), (o_rate, o_p50, o_p99) = stats["baseline"], stats["ours"]
        rows = [
            Row(f"{work.name} req/s", b_rate, o_rate, o_rate / b_rate, ">= 1.5"),
            Row(f"{work.name} p50 ms", b_p50, o_p50, o_p50 / b_p50),
            Row(f"{work.name} p99 ms", b_p99, o_p99, o_p99 / b_p99, "<= 1.0"),
        ]
        # What each process spends on a page; the inverse of the ratio is the req/s ratio to
        # expect where that process, on cores of its own, is the bottleneck.
        for process in ("front", "back"):
            base, ours = (cpu[p][process] / cpu[p]["pages"] * 1000 for p in PATHS)
            rows.append(Row(f"{work.name} {process} CPU ms/page", base, ours, ours / base))
        return rows

    async def profile(self, work: Workload, count: int) -> None:
        clients = len(work.urls)
        for path in PATHS:
            port = self.front.ready[path]
            await self.load.run(port, work, clients, clients)
            self.front.profile_start()
            self.back.profile_start()
            await self.load.run(port, work, clients, count)
            reports = {"front": self.front.profile_stop(), "back": self.back.profile_stop()}
            for process, report in reports.items():
                print(f"== cProfile, {work.name}, {path}, {process} process ==")
                print(report)


def _profile_report(profiler: cProfile.Profile) -> str:
    # cProfile slows pure-Python code far more than C code: read it for where, not how much.
    parts = []
    for key, restriction, title in (
        ("tottime", (18,), "all functions, by own time"),
        ("tottime", ("/(protocol|proxy)/", 18), "protocol/ and proxy/, by own time"),
        ("cumulative", ("/(protocol|proxy)/", 14), "protocol/ and proxy/, by cumulative time"),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(*restriction)
        body = out.getvalue().split("\n\n", 1)[-1].strip().replace(str(ROOT) + "/", "")
        parts.append(f"-- {title} --\n{body}")
    return "\n\n".join(parts) + "\n"


def workloads(practice: Practice, clients: int) -> list[Workload]:
    # Each client its own type and provider, in turn: different rows and slots per page.
    pairs = [practice.bookable[i % len(practice.bookable)] for i in range(clients)]
    return [
        Workload("appointments", ["/appointments"] * clients, b"<h1>My appointments</h1>"),
        Workload(
            "availability", [f"/book?type={t}&provider={p}" for t, p in pairs], b'class="day-link"'
        ),
    ]


# -- report ------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


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
    print("Summary. Baseline: the same proxy app and agent handlers joined by an HTTPS keep-alive")
    print("relay (aiohttp client -> aiohttp server). Ratio: ours/baseline (for CPU ms/page,")
    print("lower is better: 1/ratio is the req/s ratio where that process alone is the limit).")
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


# -- main --------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, practice: Practice, front: Child, back: Child) -> list[Row]:
    rows: list[Row] = []
    async with Load(practice.sessions) as load:
        bench = Bench(load, front, back)
        for work in workloads(practice, args.clients):
            if args.workload not in ("both", work.name):
                continue
            await bench.preflight(work)
            if args.profile:
                await bench.profile(work, args.requests)
            else:
                rows += await bench.measure(work, args.requests, args.rounds)
    return rows


@contextlib.contextmanager
def bench_database() -> Iterator[DatabaseSettings]:
    """A new, migrated database, dropped afterwards."""
    server = configured_server()
    try:
        connect(server.settings(""), connect_timeout=5).close()
    except pymysql.MySQLError as exc:
        raise SystemExit(f"MariaDB is not reachable ({exc}): scripts/ensure-mariadb.sh") from None
    with fresh_database(server, prefix="portico_bench_") as settings:
        yield settings


@contextlib.contextmanager
def serving(
    directory: Path, settings: DatabaseSettings, args: argparse.Namespace
) -> Iterator[tuple[Child, Child]]:
    """The back process (agent, relay backend), then the front (both proxy apps)."""
    keys = make_keys(directory / "keys")
    write_identity(directory / "relay", "portico-relay")
    common = {
        "keys": str(keys),
        "log_level": args.log_level,
        "relay_cert": str(directory / "relay/cert.pem"),
        "relay_key": str(directory / "relay/key.pem"),
    }
    children: list[Child] = []
    try:
        back_spec = {
            **common,
            "database": asdict(settings),
            "log_file": str(directory / "back.log"),
        }
        back = Child("back", _serve_back, back_spec)
        children.append(back)
        front_spec = {
            **common,
            "directory": str(directory),
            "log_file": str(directory / "front.log"),
            "link_port": back.ready["link"],
            "relay_port": back.ready["relay"],
            "relay_limit": args.relay_limit,
        }
        front = Child("front", _serve_front, front_spec)
        children.append(front)
        yield front, back
    finally:
        for child in reversed(children):
            child.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (300 requests a path)")
    parser.add_argument("--requests", type=int, help="measured requests per path and page")
    parser.add_argument("--rounds", type=int, help="alternating rounds they are split into")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients")
    parser.add_argument(
        "--relay-limit", type=int, default=64, help="the relay's HTTPS connection pool size"
    )
    parser.add_argument(
        "--workload", choices=("appointments", "availability", "both"), default="both"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="front and back log level (info, as proxy.yaml's default: one access line a page)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="instead: cProfile the front and back processes"
    )
    args = parser.parse_args()
    args.requests = args.requests or (300 if args.quick else 2000)
    args.rounds = args.rounds or (1 if args.quick else 8)
    configure_logging("warning")
    started = time.perf_counter()
    # Exits in reverse: the processes stop, then the database is dropped, then the files go.
    with (
        tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp,
        bench_database() as settings,
    ):
        practice = seed_practice(settings, args.clients)
        print(
            f"{os.cpu_count()} CPUs; {args.clients} clients; {args.requests} measured requests a "
            f"path and page in {args.rounds} round(s); demo practice, {len(practice.bookable)} "
            f"bookable type/provider pairs, patients with {min(practice.appointments)}-"
            f"{max(practice.appointments)} appointments; log level {args.log_level}\n"
        )
        with serving(Path(tmp), settings, args) as (front, back):
            rows = asyncio.run(run(args, practice, front, back))
    if rows:
        print_table(rows)
    print(f"\n(took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
