"""Issue 11: "placeholder pins in config/agent.example.yaml and proxy example must be refused
by validate with a clear message saying to paste the real pin."

The proxy's validation is its `check` (and `serve` at start): the example's tenant pin is a
recognisable placeholder, refused at its line; nothing else in the example is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.service.config_report import ConfigInvalid
from proxy.config import load_proxy_config

EXAMPLE = Path(__file__).parents[3] / "config" / "proxy.example.yaml"


def test_the_examples_placeholder_pin_is_its_only_problem() -> None:
    line = next(n for n, t in enumerate(EXAMPLE.read_text().splitlines(), 1) if "pins:" in t)

    with pytest.raises(ConfigInvalid) as caught:
        load_proxy_config(EXAMPLE)

    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("tenants.example-clinic.pins.0", line + 1)
    assert "placeholder" in problem.message and "paste the real pin" in problem.message
