"""The proxy's web security: response headers, cookies, CSRF and Origin checks, client address.

The proxy keeps no server-side state, so everything here is derived per request from the
request itself, the config's shared secret (identical on every replica) and two cookies:

- ``__Host-portico``: the agent's opaque session token, and nothing else. The ``__Host-``
  prefix makes the browser refuse it unless it is Secure, Path=/ and has no Domain, so no
  sibling subdomain (another office) can set or read it.
- ``__Host-pre``: a random value for signed-out visitors, so that the sign-in, register and
  password forms carry a CSRF token bound to this browser too (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from aiohttp import web

SESSION_COOKIE = "__Host-portico"
PRE_COOKIE = "__Host-pre"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD"})
USER_AGENT_CHARS = 200

# Agent tokens are secrets.token_urlsafe(32) (43 characters); anything else in the cookie is
# not worth a round trip to the agent.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,128}")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
)

SECURITY_HEADERS: Mapping[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # DESIGN.md: nothing, not even this site, gets a Referer (pages carry one-time tokens in
    # their URLs). Under this policy browsers send `Origin: null` on same-site form POSTs; see
    # same_origin() for how the Origin check still holds.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook rather than a middleware: it also reaches the responses
    aiohttp makes itself (static files, its own 404/405, an exception a middleware lets out)."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.popall("Server", None)


# -- cookies ---------------------------------------------------------------------------------


def _well_formed(value: str | None) -> str | None:
    return value if value is not None and _TOKEN_SHAPE.fullmatch(value) else None


def session_token(request: web.BaseRequest) -> str | None:
    """The agent's session token from the cookie, when it looks like one."""
    return _well_formed(request.cookies.get(SESSION_COOKIE))


def pre_session_token(request: web.BaseRequest) -> str | None:
    return _well_formed(request.cookies.get(PRE_COOKIE))


def _set(response: web.StreamResponse, name: str, value: str) -> None:
    # No Max-Age: a browser-session cookie, gone when the browser closes (shared computers).
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="Lax")


def set_session_cookie(response: web.StreamResponse, token: str) -> None:
    _set(response, SESSION_COOKIE, token)


def clear_session_cookie(response: web.StreamResponse) -> None:
    # A __Host- cookie is only replaced by a Set-Cookie that is itself Secure with Path=/.
    response.del_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")


def set_pre_session_cookie(response: web.StreamResponse, token: str) -> None:
    _set(response, PRE_COOKIE, token)


def new_pre_session_token() -> str:
    return secrets.token_urlsafe(32)


# -- CSRF ------------------------------------------------------------------------------------


def csrf_token(secret: bytes, tenant: str, bound_to: str) -> str:
    """HMAC of the cookie the form is bound to. The tenant is mixed in so a token is worth
    nothing on another office's site even if the same cookie value turned up there."""
    message = f"portico-csrf\x00{tenant}\x00{bound_to}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, tenant: str, bound_to: str | None, sent: str | None) -> bool:
    if bound_to is None or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret, tenant, bound_to), sent)


def origin_of(request: web.BaseRequest, scheme: str) -> str:
    """This tenant's origin as a browser spells it in `Origin`: scheme://host[:port]."""
    return f"{scheme}://{request.host.lower()}"


def same_origin(request: web.BaseRequest, expected: str) -> bool:
    """The request came from one of this tenant's own pages.

    `Origin` must be this tenant's origin. Under `Referrer-Policy: no-referrer` a browser
    sends `Origin: null` for a same-site form POST; that is accepted only together with the
    browser's own `Sec-Fetch-Site: same-origin` (a header no page can set or forge), and the
    CSRF token is checked on top in every case. A missing Origin falls back to `Referer`.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin == "null":
            return request.headers.get("Sec-Fetch-Site") == "same-origin"
        return origin.lower() == expected
    referer = request.headers.get("Referer")
    if not referer:
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    try:
        parts = urlsplit(referer)
    except ValueError:
        return False
    return f"{parts.scheme}://{parts.netloc}".lower() == expected


# -- client address --------------------------------------------------------------------------


def parse_networks(
    cidrs: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5555"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(
    request: web.BaseRequest,
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
) -> str | None:
    """The peer's address; when the peer is a trusted proxy, the right-most address in
    X-Forwarded-For that is not itself a trusted proxy (entries left of it are the client's
    own say-so and can be forged)."""
    peer = _address(request.remote or "")
    if peer is None:
        return None
    current = peer
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [h for h in forwarded.split(",") if h.strip()] if forwarded else []
    for hop in reversed(hops):
        if not any(current in network for network in trusted):
            break
        address = _address(hop)
        if address is None:
            break
        current = address
    return str(current)


def client_info(request: web.BaseRequest, ip: str | None) -> dict[str, str | None]:
    """What the agent records about who asked (audit), per docs/protocol.md's REQUEST."""
    return {
        "ip": ip,
        "user_agent": request.headers.get("User-Agent", "")[:USER_AGENT_CHARS],
    }
