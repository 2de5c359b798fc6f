"""``portico-proxy check``: is this replica ready to serve? One line per item, as
``portico-agent check`` prints them.

Items: the config file (every problem at once, with its line), the link key (with the pin
every office must trust), the form secret, the web certificate (readable, matching its key,
covering every office's address, not about to expire), the listen port (free, or held by a
running Portico proxy), the metrics port (the same; another program there is a warning), the
link listener's port when ``link.listen`` is set (free, or held while a running Portico proxy
holds the web port), then one line per office: its agent reached and pinned exactly as the
running proxy would reach it, and ``practice.info`` answered; a dial_out office's agent
connects to the proxy, so it is listed with its pins, not reached (`portico-agent check` at the
office tests that link). Each line says OK, WARN or FAIL
and, when not OK, what to do. Exit status: 0 when nothing failed (warnings allowed), 1
otherwise, 2 when the file cannot be read.

The per-office lines are in :mod:`proxy.check_agents`.
"""

from __future__ import annotations

import asyncio
import errno
import http.client
import ssl
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from cryptography import x509

from protocol.service.check_report import (
    ITEM_WIDTH,
    CheckResult,
    Status,
    exit_status,
    fail,
    format_result,
    format_totals,
    ok,
    skip,
    warn,
)
from protocol.service.config_report import ConfigInvalid, ConfigProblem, with_lines
from protocol.service.metrics_endpoint import LOOPBACK, listen_probe, metrics_port_verdict
from protocol.tls import client_config
from proxy.check_agents import check_dial_out_tenant, check_tenants
from proxy.config import ProxyConfig, parse_proxy_config
from proxy.dialling import Resolver, resolve_host
from proxy.security import CONTENT_SECURITY_POLICY

if TYPE_CHECKING:
    from pathlib import Path

# Any well-formed pin: loading the link identity must not depend on a tenant being configured.
_ANY_PIN = "sha256/" + "A" * 43 + "="
EXPIRY_WARNING = timedelta(days=21)


def _problem_line(item: str, problem: ConfigProblem, *fix: str) -> CheckResult:
    return fail(item, str(problem), fix=fix)


def check_link_key(config: ProxyConfig, raw: str) -> tuple[CheckResult, bool]:
    """The line, and whether the link identity loads (the agents cannot be checked without)."""
    link = config.link
    init = f"`portico-proxy init-keys {link.key_file.parent}` writes a new pair; every office "
    init += "must then trust its pin"
    try:
        identity = client_config(link.key_file, link.cert_file, [_ANY_PIN])
    except OSError as exc:
        which = "cert_file" if exc.filename == str(link.cert_file) else "key_file"
        problem = ConfigProblem(
            f"link.{which}", None, f"cannot read {exc.filename}: {exc.strerror}"
        )
        return _problem_line("link key", with_lines([problem], raw)[0], init), False
    except (ValueError, TypeError) as exc:
        problem = ConfigProblem("link.key_file", None, f"unusable link identity: {exc}")
        return _problem_line("link key", with_lines([problem], raw)[0], init), False
    summary = f"readable; this proxy's pin (every office trusts it): {identity.local_pin}"
    return ok("link key", summary), True


def check_secret(config: ProxyConfig, raw: str) -> CheckResult:
    try:
        config.secret()
    except OSError as exc:
        message = f"cannot read {config.secret_file}: {exc.strerror or exc}"
    except ValueError as exc:
        message = str(exc)
    else:
        return ok("secret", f"{config.secret_file} is readable and long enough")
    problem = with_lines([ConfigProblem("secret_file", None, message)], raw)[0]
    fix = (
        f"head -c 48 /dev/urandom | base64 > {config.secret_file} (the same file on every replica)"
    )
    return _problem_line("secret", problem, fix)


def check_web_tls(config: ProxyConfig, now: datetime) -> CheckResult:
    if config.tls is None:
        if config.behind_tls_proxy:
            return ok("web TLS", "HTTPS ends at the load balancer (behind_tls_proxy)")
        return ok("web TLS", "plain HTTP (only allowed for a localhost portal)")
    # Imported here: the app (templates, views, the agents' registry) is only needed for this
    # item, and only when the proxy serves HTTPS itself.
    from proxy.serve import web_tls_context

    tls = config.tls
    try:
        web_tls_context(config)  # exactly what `serve` loads
        certificate = x509.load_pem_x509_certificates(tls.cert_file.read_bytes())[0]
    except (ssl.SSLError, ValueError) as exc:  # before OSError: SSLError is one
        return fail(
            "web TLS",
            f"tls.cert_file and tls.key_file are not a matching PEM pair ({exc})",
            fix=("use the full chain and the private key the certificate was issued for",),
        )
    except OSError as exc:
        return fail("web TLS", f"cannot read {exc.filename}: {exc.strerror or exc}")
    uncovered = [
        f"{tenant}.{config.portal_domain}"
        for tenant in config.tenants
        if not _covers(certificate, f"{tenant}.{config.portal_domain}")
    ]
    expires = certificate.not_valid_after_utc
    renew = (f"renew the certificate for *.{config.portal_domain}",)
    if expires <= now:
        return fail("web TLS", f"{tls.cert_file} expired on {expires:%Y-%m-%d}", fix=renew)
    if uncovered:
        return fail(
            "web TLS",
            f"{tls.cert_file} does not cover {', '.join(uncovered)}",
            fix=(f"use a certificate for *.{config.portal_domain}",),
        )
    if expires - now < EXPIRY_WARNING:
        return warn("web TLS", f"{tls.cert_file} expires on {expires:%Y-%m-%d}", fix=renew)
    return ok("web TLS", f"{tls.cert_file} covers every office, valid until {expires:%Y-%m-%d}")


def _covers(certificate: x509.Certificate, host: str) -> bool:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False  # browsers ignore the common name
    for name in names.value.get_values_for_type(x509.DNSName):
        name = name.lower()
        if name == host or (name.startswith("*.") and host.partition(".")[2] == name[2:]):
            return True
    return False


def check_listen_port(config: ProxyConfig, *, timeout: float) -> CheckResult:
    host, port = config.listen.host, config.listen.port
    where = f"{host}:{port}"
    try:
        listen_probe(host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            return fail(
                "listen port",
                f"cannot listen on {where}: {exc.strerror or exc}",
                fix=(
                    "set listen.host to an address of this machine and listen.port "
                    "to a port this user may bind",
                ),
            )
        if _portico_answers(config, timeout):
            return ok("listen port", f"{where} is in use by a running Portico proxy")
        return fail(
            "listen port",
            f"{where} is in use by another program",
            fix=(f"stop it (`ss -ltnp 'sport = :{port}'` shows which) or change listen.port",),
        )
    return ok("listen port", f"{where} is free")


def check_link_listen_port(config: ProxyConfig, *, timeout: float) -> CheckResult | None:
    """The port dial_out offices' agents connect to can be bound (None: no link listener)."""
    listen = config.link.listen
    if listen is None:
        return None
    item = "link listen port"
    where = f"{listen.host}:{listen.port}"
    try:
        listen_probe(listen.host, listen.port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            return fail(
                item,
                f"cannot listen on {where}: {exc.strerror or exc}",
                fix=(
                    "set link.listen.host to an address of this machine and link.listen.port "
                    "to a port this user may bind",
                ),
            )
        # The link listener answers only pinned agents, so it cannot be asked who it is; the
        # web port, opened by the same process, can.
        if _portico_answers(config, timeout):
            return ok(item, f"{where} is in use, as is the web port by a running Portico proxy")
        return fail(
            item,
            f"{where} is in use by another program",
            fix=(
                f"stop it (`ss -ltnp 'sport = :{listen.port}'` shows which) or change "
                "link.listen.port (and the agents' and load balancer's settings with it)",
            ),
        )
    return ok(item, f"{where} is free")


def check_metrics_port(config: ProxyConfig, *, timeout: float) -> CheckResult:
    metrics = config.metrics
    return metrics_port_verdict(
        metrics.enabled,
        metrics.host,
        metrics.port,
        program="proxy",
        metric_prefix="portico_proxy_",
        timeout=timeout,
    )


def _portico_answers(config: ProxyConfig, timeout: float) -> bool:
    """Whether what listens there answers with this proxy's own Content-Security-Policy."""
    host = LOOPBACK.get(config.listen.host, config.listen.host)
    connection: http.client.HTTPConnection
    if config.tls is None:
        connection = http.client.HTTPConnection(host, config.listen.port, timeout=timeout)
    else:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # only headers read
        connection = http.client.HTTPSConnection(
            host, config.listen.port, timeout=timeout, context=context
        )
    try:
        connection.request("HEAD", "/", headers={"Host": config.portal_domain})
        policy = connection.getresponse().getheader("Content-Security-Policy")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return policy == CONTENT_SECURITY_POLICY


def _check_config(path: Path, raw: bytes) -> tuple[ProxyConfig | None, CheckResult]:
    try:
        config = parse_proxy_config(raw)
    except ConfigInvalid as invalid:
        count = len(invalid.problems)
        return None, fail(
            "config",
            f"{path}: {count} problem{'' if count == 1 else 's'}",
            details=tuple(str(problem) for problem in invalid.problems),
            fix=("correct each one at its line",),
        )
    return config, ok("config", f"{path} is valid")


def run_check(
    path: Path,
    *,
    out: TextIO | None = None,
    timeout: float = 10.0,
    resolve: Resolver = resolve_host,
    now: datetime | None = None,
) -> int:
    """The whole command; see the module docstring for the exit status."""
    out = out or sys.stdout
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(
            format_result(fail("config", f"cannot read {path}: {exc.strerror or exc}")),
            file=out,
        )
        return 2
    config, first = _check_config(path, raw)
    if config is None:
        print(format_result(first), file=out)
        print("cannot check the rest without a valid config", file=out)
        return 1
    # At least two spaces after the longest item, so the columns can be read apart.
    width = max(ITEM_WIDTH, *(len(f"agent {t}") + 1 for t in config.tenants))
    text = raw.decode("utf-8-sig")
    key, identity_loads = check_link_key(config, text)
    lines = [
        first,
        key,
        check_secret(config, text),
        check_web_tls(config, now or datetime.now(UTC)),
        check_listen_port(config, timeout=min(timeout, 3.0)),
        check_metrics_port(config, timeout=min(timeout, 3.0)),
    ]
    link_port = check_link_listen_port(config, timeout=min(timeout, 3.0))
    lines += [] if link_port is None else [link_port]
    for line in lines:
        print(format_result(line, width), file=out, flush=True)
    if identity_loads:
        agents = asyncio.run(check_tenants(config, resolve=resolve, timeout=timeout))
    else:
        agents = [
            check_dial_out_tenant(t, agent) if agent.dials_in else skip(f"agent {t}", "no link key")
            for t, agent in config.tenants.items()
        ]
    for line in agents:
        print(format_result(line, width), file=out)
    lines += agents
    dial_in = sum(agent.dials_in for agent in config.tenants.values())
    pairs = zip(agents, config.tenants.values(), strict=True)
    reached = [line for line, agent in pairs if not agent.dials_in]
    working = sum(line.status is Status.OK for line in reached)
    also = f", {dial_in} dial in" if dial_in else ""
    print(f"{format_totals(lines)} ({working} of {len(reached)} agents OK{also})", file=out)
    return exit_status(lines)
