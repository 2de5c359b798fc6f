"""The dial-out items of ``portico-agent check`` (link.mode dial_out, issue 15).

``portal``, one item per endpoint in ``link.portal``: its name resolves (each address listed),
each address is reached over TCP, and a TLS handshake there shows the portal's key is pinned in
``tls.proxy_pins`` and this agent's key is known to the portal. The probe presents the agent's
own certificate, as the daemon does, and only listens: it reads the portal's first frame (the
HELLO, which names the office the portal took this key for) and hangs up without answering, so
no link is set up and nothing is served.

``open port``: in dial_out mode nothing should listen on the link port any more; a listener
there is an old agent in listen mode, or a port forward nobody needs now.
"""

from __future__ import annotations

import errno
import socket
import ssl

from agent.config import AgentConfig
from agent.config_values import split_endpoint
from protocol.connection import Connection
from protocol.errors import ProtocolError
from protocol.events import HelloReceived
from protocol.keys import spki_pin
from protocol.service.check_report import CheckResult, fail, ok, skip, warn
from protocol.service.metrics_endpoint import listen_probe
from protocol.state import Role
from protocol.tls import ALPN_PROTOCOL

LINK_PORT = 1234
"""listen.port's default: where an agent in listen mode would still be listening."""


class _Refused(Exception):
    """One address's verdict, when it is not OK: the item's detail line and fix."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


def check_portal(
    config: AgentConfig, endpoint: str, own_pin: str | None, *, timeout: float
) -> CheckResult:
    host, port = split_endpoint(endpoint)
    if own_pin is None:
        return skip("portal", f"{endpoint}: this agent's key is not usable (see link key)")
    try:
        addresses = list(
            dict.fromkeys(
                str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            )
        )
    except OSError as exc:
        return fail(
            "portal",
            f"{endpoint}: cannot look up {host} ({exc.strerror or exc})",
            fix=(
                "check the name in link.portal against what your Portico provider sent, and "
                "that this server can resolve names (its DNS settings, its internet access)",
            ),
        )
    verdicts: list[str] = []
    fixes: list[str] = []
    for address in addresses:
        try:
            verdicts.append(_probe(config, address, port, own_pin, timeout))
        except _Refused as refused:
            verdicts.append(f"{address}: {refused.detail}")
            if refused.fix not in fixes:
                fixes.append(refused.fix)
    listed = ", ".join(addresses)
    if fixes:
        bad = len(fixes)
        return fail(
            "portal",
            f"{endpoint} ({listed}): {bad} problem{'' if bad == 1 else 's'}",
            details=verdicts,
            fix=fixes,
        )
    return ok("portal", f"{endpoint} ({listed}): reached; keys pinned both ways", *verdicts)


def _probe(config: AgentConfig, address: str, port: int, own_pin: str, timeout: float) -> str:
    tls = config.tls
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Not a trust decision: the portal's key is compared with tls.proxy_pins below.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols([ALPN_PROTOCOL.decode()])
    context.load_cert_chain(tls.cert_file, tls.key_file)
    try:
        raw = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        raise _unreachable(exc, address, port) from None
    with raw:
        try:
            with context.wrap_socket(raw) as conn:
                der = conn.getpeercert(binary_form=True)
                pin = spki_pin(der) if der else None
                if pin not in tls.proxy_pins:
                    raise _Refused(
                        f"presented key pin {pin}, which is not in tls.proxy_pins",
                        "add the portal's pin to tls.proxy_pins only if your Portico provider "
                        "confirms it is theirs; otherwise check link.portal",
                    )
                return _portal_answer(conn, address, config, own_pin)
        except TimeoutError:
            raise _Refused(
                "no TLS answer in time",
                "check that link.portal names the portal's link endpoint, not its web site",
            ) from None
        except (ssl.SSLError, OSError) as exc:
            raise _Refused(
                f"TLS failed ({getattr(exc, 'reason', None) or exc})",
                "check that link.portal names the portal's link endpoint, not its web site",
            ) from None


def _portal_answer(conn: ssl.SSLSocket, address: str, config: AgentConfig, own_pin: str) -> str:
    """The portal's first frame: its HELLO when it knows this agent's key; it hangs up (or
    sends an alert, TLS 1.3 checks the client's key after the client has finished) when not."""
    refused = _Refused(
        "the portal refused this agent's key",
        f"give your Portico provider this agent's pin {own_pin} and ask them to register it "
        f"for {config.practice.subdomain}",
    )
    link = Connection(Role.RESPONDER)
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                raise refused
            for event in link.receive_data(data):
                if isinstance(event, HelloReceived):
                    return _hello_verdict(event, address, config)
    except ssl.SSLError:
        raise refused from None
    except ProtocolError:
        raise _Refused(
            "answered TLS, but not as a Portico portal",
            "check that link.portal names the portal's link endpoint",
        ) from None


def _hello_verdict(hello: HelloReceived, address: str, config: AgentConfig) -> str:
    expected = config.practice.subdomain
    if hello.tenant.lower() != expected:
        raise _Refused(
            f'the portal has this agent\'s key registered for "{hello.tenant}", but '
            f"practice.subdomain is {expected}",
            "ask your Portico provider to register this agent's pin for "
            f"{expected}, or correct practice.subdomain",
        )
    return f"{address}: OK, the portal knows this agent as {hello.tenant}"


def _unreachable(exc: OSError, address: str, port: int) -> _Refused:
    if isinstance(exc, TimeoutError | socket.timeout):
        detail = "no answer (connection timed out)"
    elif exc.errno == errno.ECONNREFUSED:
        detail = "connection refused"
    else:
        detail = f"cannot connect ({exc.strerror or exc})"
    return _Refused(
        detail,
        f"let this server connect out to TCP port {port} (office firewall, proxy); if only "
        "port 443 may leave the office, ask your Portico provider for their :443 endpoint",
    )


def check_no_listener(
    *, port: int = LINK_PORT, hosts: tuple[str, ...] = ("127.0.0.1", "0.0.0.0"), timeout: float
) -> CheckResult:
    """Nothing listens on the link port: in dial_out mode the office needs no open port."""
    holders = []
    for host in hosts:
        if _listening(host, port, timeout):
            holders.append(f"{host}:{port}")
    if not holders:
        return ok("open port", f"nothing listens on port {port} (dial_out needs no open port)")
    return warn(
        "open port",
        f"something listens on {', '.join(holders)}, though link.mode is dial_out",
        fix=(
            f"if it is an agent still in listen mode, stop it; find it with `ss -ltnp 'sport = "
            f":{port}'` (Linux) or `lsof -nP -iTCP:{port} -sTCP:LISTEN` (macOS). Then remove "
            f"the router's port forward and the firewall rule for port {port}: nothing needs "
            "them now",
        ),
    )


def _listening(host: str, port: int, timeout: float) -> bool:
    if host in ("0.0.0.0", "::"):
        # A wildcard address cannot be dialled: see whether the port can be taken there.
        try:
            listen_probe(host, port)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
