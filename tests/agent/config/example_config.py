"""config/agent.example.yaml as an admin has it once they pasted their provider's pin: the only
edit the example needs before it validates (tests/agent/config/test_fix_placeholder_pin.py shows the
placeholder refused). No tests here."""

from __future__ import annotations

import base64
from pathlib import Path

from protocol.keys import PLACEHOLDER_PIN

EXAMPLE = Path(__file__).parents[3] / "config" / "agent.example.yaml"
PASTED_PIN = "sha256/" + base64.b64encode(bytes(range(100, 132))).decode()
EXAMPLE_TEXT = EXAMPLE.read_text().replace(PLACEHOLDER_PIN, PASTED_PIN)
