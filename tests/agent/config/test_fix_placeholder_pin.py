"""Issue 11: "`config validate` must refuse the example's placeholder pin."

config/agent.example.yaml carries a pin that is plainly a placeholder
(``sha256/PASTE+THE+REAL+PIN+...``). An admin who copies the example and forgets to paste the
provider's pin is told so, at that line, and the agent does not start with it: every proxy
would be refused with no hint why. The example is otherwise valid: the placeholder is its only
problem (see also test_config_example.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import main

EXAMPLE = Path(__file__).parents[3] / "config" / "agent.example.yaml"


def test_validate_refuses_the_examples_placeholder_pin_and_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = next(
        n for n, text in enumerate(EXAMPLE.read_text().splitlines(), 1) if "proxy_pins:" in text
    )

    assert main(["config", "validate", str(EXAMPLE)]) == 1

    out = capsys.readouterr().out.splitlines()
    errors = [o for o in out if o.startswith("error: ")]
    assert len(errors) == 1, out
    assert errors[0].startswith(f"error: tls.proxy_pins.0 (line {line + 1}): ")
    assert "placeholder" in errors[0] and "paste the real pin" in errors[0]
    assert out[-1] == "1 problem"
