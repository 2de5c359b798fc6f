from __future__ import annotations

import stat
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from agent.cli import main as agent_main
from proxy.cli import main as proxy_main

Main = Callable[[Sequence[str] | None], int]
BOTH = pytest.mark.parametrize("main", [agent_main, proxy_main], ids=["agent", "proxy"])


@BOTH
def test_init_keys_writes_a_private_key_only_its_owner_can_read(
    main: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init-keys", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert any(line.startswith("sha256/") for line in out.splitlines())
    keys = [p for p in tmp_path.iterdir() if b"PRIVATE KEY" in p.read_bytes()]
    assert keys, "init-keys wrote no private key"
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert str(key) in out


@BOTH
def test_no_command_prints_help(main: Main, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage:" in out
    assert "init-keys" in out


def test_proxy_serve_refuses_a_missing_config_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert proxy_main(["serve", "--config", str(tmp_path / "proxy.yaml")]) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "proxy.yaml" in err


def test_agent_run_refuses_a_bad_config_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("practice:\n  name: X\nbooking:\n  round_to_minutes: 20\n")
    assert agent_main(["run", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "booking.round_to_minutes (line 4)" in err
    assert "not started" in err
