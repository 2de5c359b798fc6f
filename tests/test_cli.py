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


@pytest.mark.parametrize(
    ("main", "command", "expected"),
    [
        (agent_main, "run", "not yet: the agent daemon arrives with the booking issue"),
        (proxy_main, "serve", "not yet: the proxy arrives with the proxy issue"),
    ],
    ids=["agent", "proxy"],
)
def test_daemon_command_is_honest_that_it_is_not_there_yet(
    main: Main, command: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command]) == 0
    assert expected in capsys.readouterr().out
