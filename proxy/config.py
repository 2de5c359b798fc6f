"""The proxy's configuration: one YAML file (``/etc/portico/proxy.yaml``), validated at once.

The file's shape is these models' shape; defaults and limits live on the fields, so the commented
``config/proxy.example.yaml`` and the validator cannot drift apart (a test loads the example).
:func:`load_proxy_config` reports every problem in one go, each with its dotted path and line
(the reporting is shared with the agent, in :mod:`protocol.service.config_report`, and so are
the rules for subdomains, phones, pins and networks, in :mod:`protocol.service.fields`).
The proxy's own single-value checks (portal domain, agent host) are in :mod:`proxy.config_fields`.

The ``tenants`` mapping is the tenant registry: subdomain -> the office's agent and how the
proxy recognises it (its key pins), plus the office name and phone shown when the agent cannot
be reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, PydanticKnownError

from protocol.service.config_report import YAML_LINES, parse_yaml_model
from protocol.service.config_report import ConfigInvalid as ConfigInvalid
from protocol.service.config_report import ConfigProblem as ConfigProblem
from protocol.service.fields import Network, Phone, Pin, Port, Whole
from proxy.config_fields import AgentHost, PerMinute, PortalDomain, TenantSubdomain

EXAMPLE = "config/proxy.example.yaml"
SECTIONS = "portal_domain:, tls:, link:, secret_file:, tenants:, ..."
MIN_SECRET_BYTES = 32

# --- the models ---------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)


class Listen(_Section):
    """Where the proxy's web server listens."""

    host: str = Field(default="0.0.0.0", min_length=1, description="Address to listen on.")
    port: Port = Field(default=8443, description="TCP port for HTTPS (or HTTP, see tls).")


class WebTLS(_Section):
    """The certificate patients' browsers see (for *.<portal_domain>)."""

    cert_file: Path = Field(description="Certificate chain (PEM) for the portal's domains.")
    key_file: Path = Field(description="Private key (PEM) of that certificate.")


class LinkListen(_Section):
    """Where dial_out offices' agents connect to this replica (its own port; a load balancer
    may also route ALPN ``portico/1`` on 443 to it)."""

    host: str = Field(default="0.0.0.0", min_length=1, description="Address to listen on.")
    port: Annotated[Whole, Field(ge=0, le=65535)] = Field(
        default=4443, description="TCP port for agents' links (0: any free port, for tests)."
    )
    # A replica that has just started holds no office's link yet: each agent dials it again
    # within its backoff cap (agent link.backoff_cap_seconds, 30 by default). Until then
    # /healthz keeps the load balancer from sending it patients whose office is not back.
    warm_up_seconds: Annotated[Whole, Field(ge=0, le=600)] = Field(
        default=35,
        description="After a start, /healthz says 503 until every dial_out office has dialled "
        "in or this many seconds have passed.",
    )


class LinkIdentity(_Section):
    """The proxy's own key pair on the link; agents pin its key."""

    key_file: Path = Field(description="This proxy's link key (written by `init-keys`).")
    cert_file: Path = Field(description="This proxy's link certificate (written by `init-keys`).")
    listen: LinkListen | None = Field(
        default=None,
        description="Where dial_out offices' agents connect; null: no link listener.",
    )


class RateLimit(_Section):
    """Per-client limits on the forms that attackers hammer."""

    sign_in_per_minute: PerMinute = Field(
        default=10, description="Sign-in attempts per client a minute."
    )
    forgot_per_minute: PerMinute = Field(
        default=5, description="Forgot-password requests per client a minute."
    )
    burst: Whole = Field(
        default=5, ge=1, le=1000, description="Extra attempts allowed in a quick burst."
    )


class Logging(_Section):
    """The proxy's log output (JSON lines; never patient data)."""

    level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level."
    )


class Metrics(_Section):
    """The Prometheus endpoint: its own listener, so the public site never serves it."""

    enabled: bool = Field(default=True, description="Serve the metrics endpoint at all.")
    host: str = Field(default="127.0.0.1", min_length=1, description="Address to listen on.")
    port: Annotated[Whole, Field(ge=0, le=65535)] = Field(
        default=9124, description="TCP port of the metrics endpoint (0: any free port, for tests)."
    )


TenantMode = Literal["listen", "dial_out"]


class TenantConfig(_Section):
    """One office: where its agent is (or that it dials in) and how the proxy recognises it."""

    mode: TenantMode = Field(
        default="listen",
        description="listen: the proxy connects to the agent at host:port; dial_out: the "
        "agent connects to the proxy's link listener (link.listen) and is known by its pin.",
    )
    host: AgentHost | None = Field(
        default=None,
        description="listen only: the agent's host name (re-resolved on every reconnect) or IP "
        "address.",
    )
    port: Port = Field(default=1234, description="listen only: the agent's link port.")
    pins: tuple[Pin, ...] = Field(
        min_length=1,
        description="The agent's key pins (sha256/...); list two while the office changes keys.",
    )
    name: str = Field(
        min_length=1, max_length=120, description="Office name shown when its agent is down."
    )
    phone: Phone = Field(
        min_length=7, max_length=32, description="Office phone shown when its agent is down."
    )

    @model_validator(mode="after")
    def _address_fits_mode(self) -> TenantConfig:
        # Raised as a ValidationError so that each problem points at its own key (and line).
        if self.mode == "listen" and self.host is None:
            missing = InitErrorDetails(type="missing", loc=("host",), input={})
            raise ValidationError.from_exception_data("TenantConfig", [missing])
        given = [key for key in ("host", "port") if key in self.model_fields_set]
        if self.mode == "dial_out" and given:
            message = "a dial_out office's agent connects to the portal; remove host/port"
            raise ValidationError.from_exception_data(
                "TenantConfig",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("dial_out_address", message), loc=(key,), input=""
                    )
                    for key in given
                ],
            )
        return self

    @property
    def dials_in(self) -> bool:
        """The office's agent connects to the proxy (``mode: dial_out``)."""
        return self.mode == "dial_out"

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of a listen-mode office's agent; ValueError for a dial_out office."""
        if self.host is None:
            raise ValueError("a dial_out office has no address: its agent connects to the proxy")
        return self.host, self.port


class ProxyConfig(_Section):
    """The whole proxy.yaml."""

    portal_domain: PortalDomain = Field(
        description='Offices are at <subdomain>.<portal_domain>; "localhost" for the demo.'
    )
    behind_tls_proxy: bool = Field(
        default=False,
        description="A load balancer in front terminates TLS; this proxy speaks HTTP.",
    )
    # Declared after portal_domain and behind_tls_proxy: its check reads both.
    tls: WebTLS | None = Field(
        default=None,
        validate_default=True,
        description="HTTPS certificate; null serves plain HTTP (localhost or behind_tls_proxy).",
    )
    listen: Listen = Field(default_factory=Listen, description="Where the web server listens.")
    link: LinkIdentity = Field(description="This proxy's key pair on the link to agents.")
    secret_file: Path = Field(
        description=f"Random secret (>= {MIN_SECRET_BYTES} bytes) shared by all replicas (CSRF)."
    )
    trusted_proxies: tuple[Network, ...] = Field(
        default=(), description="Networks (CIDR) whose X-Forwarded-For header is believed."
    )
    rate_limit: RateLimit = Field(default_factory=RateLimit, description="Form rate limits.")
    logging: Logging = Field(default_factory=Logging, description="Log output.")
    metrics: Metrics = Field(default_factory=Metrics, description="Prometheus metrics endpoint.")
    tenants: dict[TenantSubdomain, TenantConfig] = Field(
        min_length=1, description="The offices: subdomain -> agent address, pins, name, phone."
    )

    @field_validator("tls", mode="after")
    @classmethod
    def _plain_http_only_where_safe(cls, tls: WebTLS | None, info: ValidationInfo) -> WebTLS | None:
        domain = info.data.get("portal_domain")
        if tls is not None or domain is None or info.data.get("behind_tls_proxy", True):
            return tls
        if domain == "localhost" or domain.endswith(".localhost"):
            return tls  # browsers treat *.localhost as a secure context: the demo needs no cert
        raise PydanticCustomError(
            "plain_http",
            "is not set, so patients would reach the portal over plain HTTP; give cert_file and "
            "key_file, or set behind_tls_proxy: true if a load balancer in front terminates TLS",
        )

    @field_validator("tenants", mode="wrap")
    @classmethod
    def _unique_ignoring_case(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        # Checked on the keys as written, before they are lower-cased (which would silently
        # merge the two entries), and reported together with the entries' own problems.
        lines = (info.context or {}).get(YAML_LINES, {})
        twins = _case_twins(value, lines)
        try:
            tenants = handler(value)
        except ValidationError as exc:
            if not twins:
                raise
            raise ValidationError.from_exception_data(
                "tenants", [*map(_line_error, exc.errors()), *twins]
            ) from None
        if twins:
            raise ValidationError.from_exception_data("tenants", twins)
        return tenants

    @model_validator(mode="after")
    def _dial_in_offices_fit(self) -> ProxyConfig:
        problems: list[InitErrorDetails] = []
        dialling_in = sorted(name for name, t in self.tenants.items() if t.dials_in)
        if dialling_in and self.link.listen is None:
            message = (
                f"is needed: the dial_out offices {', '.join(dialling_in)} connect to it; add "
                'link.listen: {host: "0.0.0.0", port: 4443}'
            )
            problems.append(
                InitErrorDetails(
                    type=PydanticCustomError("link_listener", message),
                    loc=("link", "listen"),
                    input="",
                )
            )
        # The pin is how a dialling-in agent is told apart: one pin, one office.
        owner: dict[str, str] = {}
        for name in dialling_in:
            for pin in self.tenants[name].pins:
                other = owner.setdefault(pin, name)
                if other != name:
                    message = (
                        f"{pin} is listed for both dial_out offices {other} and {name}: an "
                        "agent connecting with it could be either; each office needs its own key"
                    )
                    problems.append(
                        InitErrorDetails(
                            type=PydanticCustomError("shared_pin", message),
                            loc=("tenants", name, "pins"),
                            input="",
                        )
                    )
        if problems:
            raise ValidationError.from_exception_data("ProxyConfig", problems)
        return self

    def dial_in_pins(self) -> frozenset[str]:
        """Every dial_out office's pins: whom the link listener lets in."""
        return frozenset(p for t in self.tenants.values() if t.dials_in for p in t.pins)

    @property
    def plain_http(self) -> bool:
        """The proxy itself serves HTTP, not HTTPS."""
        return self.tls is None

    def secret(self) -> bytes:
        """The CSRF secret from ``secret_file`` (a trailing line break is not part of it).

        Raises OSError when the file cannot be read and ValueError when it is too short."""
        data = self.secret_file.read_bytes().rstrip(b"\r\n")
        if len(data) < MIN_SECRET_BYTES:
            raise ValueError(
                f"{self.secret_file} holds {len(data)} bytes; the secret needs at least "
                f"{MIN_SECRET_BYTES} random bytes (e.g. `head -c 48 /dev/urandom | base64 > "
                f"{self.secret_file}`), the same file on every replica"
            )
        return data


def _case_twins(value: Any, lines: dict[str, int]) -> list[InitErrorDetails]:
    if not isinstance(value, dict):
        return []
    first: dict[str, str] = {}
    twins: list[InitErrorDetails] = []
    for key in value:
        if not isinstance(key, str):
            continue
        folded = key.lower()
        if folded in first:
            other = first[folded]
            where = f" (line {lines[f'tenants.{other}']})" if f"tenants.{other}" in lines else ""
            message = (
                f'is the same subdomain as "{other}"{where}: addresses ignore upper and lower '
                "case; each office needs its own"
            )
            twins.append(
                InitErrorDetails(
                    type=PydanticCustomError("duplicate_subdomain", message), loc=(key,), input=key
                )
            )
        else:
            first[folded] = key
    return twins


def _line_error(error: Any) -> InitErrorDetails:
    """One error from a caught ValidationError, in the form that re-raising needs."""
    ctx = error.get("ctx")
    kind: str | PydanticCustomError
    try:
        PydanticKnownError(error["type"], ctx)
        kind = error["type"]
    except (KeyError, TypeError, ValueError):
        kind = PydanticCustomError(error["type"], error["msg"], ctx)
    details = InitErrorDetails(type=kind, loc=error["loc"], input=error.get("input"))
    if ctx is not None and isinstance(kind, str):
        details["ctx"] = ctx
    return details


# --- loading ------------------------------------------------------------------------------------


def load_proxy_config(path: Path | str) -> ProxyConfig:
    """Read and validate the file at ``path``.

    Raises OSError when the file cannot be read, and :class:`ConfigInvalid` listing every
    problem (YAML syntax included), each with its dotted path and line, when it cannot be used."""
    return parse_proxy_config(Path(path).read_bytes())


def parse_proxy_config(raw: bytes | str) -> ProxyConfig:
    """Validate a config file's content; see :func:`load_proxy_config`."""
    return parse_yaml_model(raw, ProxyConfig, example=EXAMPLE, sections=SECTIONS)
