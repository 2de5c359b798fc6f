"""The link sections of agent.yaml: who opens the link (link:), where the agent listens for it
(listen:, listen mode only) and the keys it is pinned with (tls:).

Split out of agent/config.py, which keeps the other sections, the rules across sections (such as
listen: being there exactly in listen mode) and the loading: these three describe the link and
nothing else, and are read together when the link is set up or changed (issue 15). The checks of
one endpoint ("host:port") are in agent/config_values.py with the other single values.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from agent.config_base import Section, conflict
from agent.config_values import Endpoints
from protocol.service.fields import Network, Pin, Port, Whole


class Link(Section):
    """Who opens the link: the proxy dials the agent (listen), or the agent dials the portal
    (dial_out, issue 15: no static IP, no port forwarding, no open port at the office). Either
    way the portal asks and the agent answers; the keys are pinned the same way."""

    mode: Literal["listen", "dial_out"] = Field(
        "listen",
        description="listen: the portal connects to this agent (needs listen:); dial_out: "
        "this agent connects to the portal (needs portal:).",
    )
    portal: Endpoints | None = Field(
        None,
        min_length=1,
        description='The portal\'s link endpoints, "host:port" each (dial_out only).',
    )
    # Behind a load balancer one address hides several replicas; each link lands on one of them.
    links_per_address: Whole = Field(
        1, ge=1, le=8, description="Links kept to each address an endpoint resolves to."
    )
    # Full jitter: many offices reconnecting after a portal restart must not arrive together.
    backoff_cap_seconds: Whole = Field(
        30, ge=1, le=300, description="Longest wait between two attempts to reconnect."
    )

    @model_validator(mode="after")
    def _portal_as_the_mode_needs(self) -> Self:
        if self.mode == "dial_out" and self.portal is None:
            raise conflict(
                "portal",
                "required when mode is dial_out; list the portal's link endpoint(s) your "
                'Portico provider gave you, like ["links.portal.example.com:4443"]',
            )
        if self.mode == "listen" and self.portal is not None:
            raise conflict(
                "portal",
                "only used when mode is dial_out: set mode: dial_out (recommended: the office "
                "then needs no open port), or delete portal",
            )
        return self


class Listen(Section):
    """Where the agent accepts link connections from the proxy (link.mode listen only)."""

    host: str = Field("0.0.0.0", min_length=1, description="Address to listen on.")
    port: Port = Field(1234, description="TCP port for the link.")
    allowed_proxies: tuple[Network, ...] = Field(
        min_length=1,
        description="Networks (CIDR) the proxies connect from; anything else is refused.",
    )

    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``allowed_proxies`` as network objects, for checking a peer address."""
        return [ipaddress.ip_network(n) for n in self.allowed_proxies]


class TLS(Section):
    """The agent's key pair and the proxies it trusts (mutual TLS with pinned keys)."""

    key_file: Path = Field(description="This agent's private key (written by `init-keys`).")
    cert_file: Path = Field(description="This agent's certificate (written by `init-keys`).")
    proxy_pins: tuple[Pin, ...] = Field(
        min_length=1, description="Key pins (sha256/...) of the proxies allowed to connect."
    )
