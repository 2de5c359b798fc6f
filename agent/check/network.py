"""The network items of ``portico-agent check``: the link port (listen mode), and the way mail
leaves.

Port: bind it as the daemon would. If something already listens there, ask it for its TLS
certificate; when that is this agent's own key, the agent is simply running (OK). The probe
presents no certificate, so the agent refuses it right after the handshake: nothing of the
link is exercised and nothing is written.

Mail: talk to the relay up to EHLO, STARTTLS and sign-in as configured, then QUIT; no message
is ever sent. In folder mode, prove the outbox folder takes a file.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
import ssl
import tempfile
from pathlib import Path

import aiosmtplib

from agent.config import SMTP, AgentConfig, Email
from protocol.keys import spki_pin
from protocol.service.check_report import CheckResult, fail, ok, warn
from protocol.service.metrics_endpoint import LOOPBACK, listen_probe, metrics_port_verdict
from protocol.tls import ALPN_PROTOCOL

_AS_AGENT_USER = "the files item shows what the agent's user may read"


def check_listen_port(config: AgentConfig, own_pin: str | None, *, timeout: float) -> CheckResult:
    host, port = config.listening.host, config.listening.port
    where = f"{host}:{port}"
    try:
        listen_probe(host, port)
    except PermissionError:
        return fail(
            "listen port",
            f"this user may not listen on {where}",
            fix=("use a port above 1023 (1234 is the usual one) in listen.port",),
        )
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
            return fail(
                "listen port",
                f"{host} is not an address of this machine",
                fix=("set listen.host to one of this server's addresses, or 0.0.0.0 for all",),
            )
        if exc.errno != errno.EADDRINUSE:
            return fail("listen port", f"cannot listen on {where}: {exc.strerror or exc}")
        return _in_use(config, own_pin, timeout)
    return ok("listen port", f"{where} is free")


def check_metrics_port(config: AgentConfig, *, timeout: float) -> CheckResult:
    metrics = config.metrics
    return metrics_port_verdict(
        metrics.enabled,
        metrics.host,
        metrics.port,
        program="agent",
        metric_prefix="portico_agent_",
        timeout=timeout,
    )


def _in_use(config: AgentConfig, own_pin: str | None, timeout: float) -> CheckResult:
    host, port = config.listening.host, config.listening.port
    target = LOOPBACK.get(host, host)
    where = f"{host}:{port}"
    find_it = (
        f"stop the program that holds it (find it with `ss -ltnp 'sport = :{port}'` on Linux or "
        f"`lsof -nP -iTCP:{port} -sTCP:LISTEN` on macOS), or set listen.port to a free port and "
        "tell your Portico provider",
    )
    try:
        pin = _presented_pin(target, port, timeout)
    except TimeoutError:
        return fail(
            "listen port", f"{where} is in use by another program (no TLS answer)", fix=find_it
        )
    except (ssl.SSLError, OSError):
        if _allowed(config, target):
            return fail(
                "listen port", f"{where} is in use by a program that is not this agent", fix=find_it
            )
        # The agent drops connections from outside listen.allowed_proxies before any TLS:
        # from here that looks the same as any program that closes at once.
        return warn(
            "listen port",
            f"{where} is in use; whatever holds it closed the connection from {target} at once, "
            "as this agent does for addresses outside listen.allowed_proxies",
            fix=("if the agent is not running, " + find_it[0],),
        )
    if pin is not None and pin == own_pin:
        return ok("listen port", f"{where} is in use by this agent (it presented this agent's pin)")
    if own_pin is None:
        return fail(
            "listen port",
            f"{where} is in use by a TLS service (key pin {pin}); this agent's own key could not "
            "be read to compare (see the link key item)",
            fix=find_it,
        )
    return fail(
        "listen port",
        f"{where} is in use by another TLS service (key pin {pin}, not this agent's)",
        fix=find_it,
    )


def _presented_pin(host: str, port: int, timeout: float) -> str | None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Not a trust decision: the pin is compared below; this only reads the certificate.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols([ALPN_PROTOCOL.decode()])
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    return spki_pin(der) if der else None


def _allowed(config: AgentConfig, address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # a host name: the agent would see whatever it resolves to
        return False
    return any(ip in network for network in config.listening.proxy_networks())


# --- mail ----------------------------------------------------------------------------------------


def check_mail(email: Email, *, tls_context: ssl.SSLContext | None = None) -> CheckResult:
    if email.mode == "folder":
        return _check_outbox_folder(email.outbox_dir)
    smtp = email.smtp
    if smtp is None:  # the config validator refuses this already
        return fail("mail", "email.mode is smtp but there is no email.smtp section")
    try:
        password = smtp.password_value() if smtp.username else None
    except OSError as exc:
        return fail(
            "mail",
            f"cannot read email.smtp.password_file {smtp.password_file}: {exc.strerror or exc}",
            fix=(f"make it readable by the agent's user; {_AS_AGENT_USER}",),
        )
    return asyncio.run(_check_relay(smtp, password, tls_context))


async def _check_relay(
    smtp: SMTP, password: str | None, tls_context: ssl.SSLContext | None
) -> CheckResult:
    where = f"{smtp.host}:{smtp.port}"
    relay = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        timeout=float(smtp.timeout_seconds),
        start_tls=False,  # explicitly below, so a relay that does not offer it is a failure
        tls_context=tls_context,
    )
    done = ["EHLO"]
    try:
        await relay.connect()
        await relay.ehlo()
        if smtp.starttls:
            await relay.starttls()
            done.append("STARTTLS")
        if smtp.username:
            await relay.login(smtp.username, password or "")
            done.append("sign-in")
        await relay.quit()
    except Exception as exc:  # every way the relay can fail becomes one line: see _relay_failure
        relay.close()
        return _relay_failure(smtp, exc)
    return ok("mail", f"relay {where} answered ({', '.join(done)} OK); no mail was sent")


def _relay_failure(smtp: SMTP, exc: Exception) -> CheckResult:
    where = f"{smtp.host}:{smtp.port}"
    settings = "check email.smtp.host and email.smtp.port, and that this server may reach it"
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return fail("mail", f"the relay at {where} did not answer in time", fix=(settings,))
    if isinstance(exc, aiosmtplib.SMTPConnectError | ConnectionError):
        return fail("mail", f"nothing answers as a mail relay at {where}", fix=(settings,))
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return fail(
            "mail",
            f"the relay at {where} refused the sign-in (code {exc.code})",
            fix=("check email.smtp.username and the password in email.smtp.password_file",),
        )
    if isinstance(exc, ssl.SSLError):
        return fail(
            "mail",
            f"STARTTLS with {where} failed: the relay's certificate could not be verified",
            fix=(
                "the relay needs a certificate this server trusts, issued for "
                f"{smtp.host}; check email.smtp.host",
            ),
        )
    if isinstance(exc, aiosmtplib.SMTPException) and smtp.starttls and "STARTTLS" in str(exc):
        return fail(
            "mail",
            f"the relay at {where} does not offer STARTTLS",
            fix=(
                "use the relay's submission port (587) or one that offers STARTTLS; turn "
                "email.smtp.starttls off only for a relay on this machine",
            ),
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return fail("mail", f"the relay at {where} answered {exc.code}: {exc.message}")
    return fail("mail", f"cannot talk to the relay at {where}: {type(exc).__name__}: {exc}")


def _check_outbox_folder(folder: Path) -> CheckResult:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing != folder and not existing.is_dir():
        return fail(
            "mail",
            f"outbox folder {folder} cannot be created: {existing} is a file",
            fix=("set email.outbox_dir to a folder",),
        )
    if existing == folder and not folder.is_dir():
        return fail(
            "mail", f"outbox {folder} is not a folder", fix=("set email.outbox_dir to a folder",)
        )
    try:
        handle, name = tempfile.mkstemp(dir=existing, prefix=".portico-check-")
    except OSError as exc:
        return fail(
            "mail",
            f"outbox folder {existing} is not writable: {exc.strerror or exc}",
            fix=("give the agent's user write access to it",),
        )
    os.close(handle)
    os.unlink(name)
    state = "will be created" if existing != folder else "is writable"
    # A warning, not OK: the agent works, but no patient ever receives an invitation, a
    # password reset or a "new message" notice.
    return warn(
        "mail",
        f"email.mode is folder: patients get no email; it is written to {folder} ({state})",
        fix=(
            "set email.mode: smtp and fill in email.smtp with your mail relay "
            "(docs/install.md, step 3); folder mode is for trying Portico out",
        ),
    )
