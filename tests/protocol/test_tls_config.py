"""Configuration mistakes surface when the config is built, not at the first connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.tls import client_config, server_config
from tests.support.keys import make_identity


def test_key_that_does_not_match_certificate_is_refused(tmp_path: Path) -> None:
    mine = make_identity(tmp_path / "mine", "agent")
    other = make_identity(tmp_path / "other", "agent")
    for factory in (server_config, client_config):
        with pytest.raises(ValueError, match="does not match the certificate"):
            factory(other.key_file, mine.cert_file, [mine.pin])


def test_malformed_or_missing_pins_are_refused(tmp_path: Path) -> None:
    me = make_identity(tmp_path / "me", "agent")
    with pytest.raises(ValueError, match="pin"):
        server_config(me.key_file, me.cert_file, ["sha256/not-a-pin"])
    with pytest.raises(ValueError, match="no allowed peer pins"):
        client_config(me.key_file, me.cert_file, [])


def test_pins_are_normalised(tmp_path: Path) -> None:
    me = make_identity(tmp_path / "me", "agent")
    config = server_config(me.key_file, me.cert_file, [f" {me.pin}\n"])
    assert config.allowed_pins == frozenset({me.pin})
    assert config.local_pin == me.pin
    assert config.server_side and not client_config(me.key_file, me.cert_file, [me.pin]).server_side
