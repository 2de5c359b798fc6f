"""tls.proxy_pins: at least one, each a well-formed sha256 key pin, stored in canonical form."""

from __future__ import annotations

import base64

import pytest

from agent.config import ConfigInvalid, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT, PASTED_PIN

PLACEHOLDER = f'    - "{PASTED_PIN}"'
PIN = "sha256/" + base64.b64encode(bytes(range(32))).decode()


def with_pins(*pins: str) -> str:
    assert EXAMPLE_TEXT.count(PLACEHOLDER) == 1
    return EXAMPLE_TEXT.replace(PLACEHOLDER, "\n".join(f"    - {p!r}" for p in pins))


def test_pins_are_kept_in_canonical_form() -> None:
    zeros = "sha256/" + base64.b64encode(bytes(32)).decode()
    # Same 32 bytes, but the unused low bits of the last base64 digit are set.
    zeros_with_stray_bits = zeros[:-2] + "B="

    config = parse_config(with_pins(f"  {PIN}  ", zeros_with_stray_bits))

    assert config.tls.proxy_pins == (PIN, zeros)


@pytest.mark.parametrize(
    ("pin", "complaint"),
    [
        (PIN.removeprefix("sha256/"), "must start with 'sha256/'"),
        ("sha256/not*base64", "is not standard base64"),
        ("sha256/" + base64.b64encode(bytes(20)).decode(), "decodes to 20 bytes"),
    ],
)
def test_a_malformed_pin_is_reported_at_its_position(pin: str, complaint: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(with_pins(PIN, pin))

    [problem] = caught.value.problems
    assert problem.path == "tls.proxy_pins.1"
    assert problem.line == EXAMPLE_TEXT.splitlines().index(PLACEHOLDER) + 2
    assert complaint in problem.message


def test_at_least_one_pin_is_required() -> None:
    text = EXAMPLE_TEXT.replace("  proxy_pins:\n" + PLACEHOLDER, "  proxy_pins: []")

    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)

    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("tls.proxy_pins", "must list at least 1 entry")
    ]
