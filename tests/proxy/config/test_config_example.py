"""The commented example an operator copies must validate, once its placeholder pin is replaced
(its only problem: tests/proxy/config/test_fix_placeholder_pin.py), and show every setting,
commented."""

from __future__ import annotations

import base64
import types
import typing
from pathlib import Path

from pydantic import BaseModel

from protocol.keys import PLACEHOLDER_PIN
from protocol.service.config_report import read_yaml
from proxy.config import ProxyConfig, TenantConfig, parse_proxy_config

EXAMPLE = Path(__file__).parents[3] / "config" / "proxy.example.yaml"


def test_the_example_validates() -> None:
    pasted = "sha256/" + base64.b64encode(bytes(range(32))).decode()
    config = parse_proxy_config(EXAMPLE.read_text().replace(PLACEHOLDER_PIN, pasted))

    assert config.portal_domain == "portal.example.com"
    assert config.tls is not None and not config.behind_tls_proxy
    assert config.listen.port == 8443
    assert config.rate_limit.sign_in_per_minute == 10
    assert list(config.tenants) == ["example-clinic"]
    clinic = config.tenants["example-clinic"]
    assert (clinic.host, clinic.port, clinic.name) == (
        "clinic.example-ddns.net",
        1234,
        "Example Family Clinic",
    )
    assert clinic.pins == (pasted,)


def _field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, info in model.model_fields.items():
        paths.append(prefix + name)
        # A section, or an optional one (`WebTLS | None`); the tenants mapping is listed apart.
        optional = typing.get_origin(info.annotation) in (typing.Union, types.UnionType)
        for candidate in [info.annotation, *(typing.get_args(info.annotation) if optional else ())]:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths += _field_paths(candidate, f"{prefix}{name}.")
    return paths


def test_the_example_shows_every_setting_the_proxy_accepts() -> None:
    present = set(read_yaml(EXAMPLE.read_text()).lines)
    expected = _field_paths(ProxyConfig) + _field_paths(TenantConfig, "tenants.example-clinic.")

    assert [path for path in expected if path not in present] == []


def test_every_setting_in_the_example_has_a_comment_above_it() -> None:
    text = EXAMPLE.read_text()
    lines = text.splitlines()
    uncommented = [
        path
        for path, line in read_yaml(text).lines.items()
        if not path.rsplit(".", 1)[-1].isdigit() and not lines[line - 2].lstrip().startswith("#")
    ]
    assert uncommented == []


def test_the_example_is_plain_yaml_with_no_duplicate_keys() -> None:
    assert read_yaml(EXAMPLE.read_text()).problems == []
