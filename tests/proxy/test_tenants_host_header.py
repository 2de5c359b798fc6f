"""Which office a request is for, from its Host header: exactly one label under the portal
domain; everything else names no office (and gets no office's page)."""

from __future__ import annotations

import pytest

from proxy.config import ProxyConfig
from proxy.tenants import TenantRegistry, tenant_from_host

PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@pytest.mark.parametrize(
    ("host", "tenant"),
    [
        ("demo.localhost", "demo"),
        ("DEMO.localhost:8080", "demo"),
        ("Demo.LocalHost", "demo"),
        ("demo.localhost.", "demo"),  # the fully qualified form names the same host
        ("demo.localhost.:8080", "demo"),
        ("example-clinic.localhost:1", "example-clinic"),
        ("a.b.localhost", None),  # only one label before the domain
        ("localhost", None),  # the bare domain is no office
        ("localhost:8080", None),
        ("", None),
        (None, None),
        ("demo.evil.com", None),
        ("demo.localhost.evil.com", None),
        ("demolocalhost", None),
        ("evil-localhost", None),
        ("[::1]", None),
        ("[::1]:8080", None),
        ("127.0.0.1", None),
        ("127.0.0.1:8080", None),
        ("demo..localhost", None),
        (".localhost", None),
        ("demo.localhost..", None),
        ("demo.localhost:", None),
        ("demo.localhost:0", None),
        ("demo.localhost:99999", None),
        ("demo.localhost:80:80", None),
        ("demo.localhost:http", None),
        ("de mo.localhost", None),
        ("demo_1.localhost", None),
        ("-demo.localhost", None),
        ("demo-.localhost", None),
        ("démo.localhost", None),
        ("xn--dmo-bpa.localhost", "xn--dmo-bpa"),  # valid DNS; the registry decides
        ("demo.localhost\r\nX-Injected: 1", None),
        ("user@demo.localhost", None),
        ("a" * 63 + ".localhost", "a" * 63),
        ("a" * 64 + ".localhost", None),
        ("demo." + "a" * 300 + ".localhost", None),
        ("demo.localhost" + " " * 300, None),
    ],
)
def test_host_header_to_tenant(host: str | None, tenant: str | None) -> None:
    assert tenant_from_host(host, "localhost") == tenant


@pytest.mark.parametrize(
    ("host", "tenant"),
    [
        ("example-clinic.portal.example.com", "example-clinic"),
        ("Example-Clinic.Portal.Example.Com:443", "example-clinic"),
        ("portal.example.com", None),
        ("example.com", None),
        ("example-clinic.example.com", None),
        ("x.example-clinic.portal.example.com", None),
        ("example-clinic.portal.example.com.evil.net", None),
    ],
)
def test_a_real_portal_domain(host: str, tenant: str | None) -> None:
    assert tenant_from_host(host, "portal.example.com") == tenant


def registry() -> TenantRegistry:
    def office(name: str) -> dict[str, object]:
        return {"host": "127.0.0.1", "pins": [PIN], "name": name, "phone": "+1 555 0100"}

    config = ProxyConfig.model_validate(
        {
            "portal_domain": "localhost",
            "link": {"key_file": "/k.pem", "cert_file": "/c.pem"},
            "secret_file": "/secret",
            "tenants": {"demo": office("Demo Clinic"), "Example-Clinic": office("Example")},
        }
    )
    return TenantRegistry(config)


def test_the_registry_finds_offices_by_subdomain_in_any_case() -> None:
    tenants = registry()

    demo = tenants.get("demo")
    assert demo is not None and demo.name == "Demo Clinic"
    assert tenants.get("DEMO") is demo
    assert tenants.get("example-clinic") is not None
    assert tenants.get("nobody") is None
    assert sorted(tenants) == ["demo", "example-clinic"]
    assert len(tenants) == 2 and "Demo" in tenants and "nobody" not in tenants


def test_the_registry_maps_a_host_header_to_its_office() -> None:
    tenants = registry()

    found = tenants.for_host("Example-Clinic.localhost:8080")
    assert found is not None and found[0] == "example-clinic" and found[1].name == "Example"
    assert tenants.for_host("nobody.localhost") is None  # well-formed, but no such office
    assert tenants.for_host("a.demo.localhost") is None
    assert tenants.for_host(None) is None
