"""The service definitions office IT and the portal operator install: the systemd units pass
`systemd-analyze verify` and rate an exposure of 2.0 or lower in `systemd-analyze security`, and
the launchd plist has what launchd needs to keep the agent running.

`systemd-analyze verify` insists that ExecStart's program exists, so each unit is checked as a
copy whose ExecStart names this virtualenv's console script instead of /usr/local/bin's; that
one path is the only difference. `.ci/run` installs the `systemd` package when it is missing.
"""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
INSTALLED_BIN = "/usr/local/bin/"
UNITS = {"portico-agent.service": "portico-agent", "portico-proxy.service": "portico-proxy"}
MAX_EXPOSURE = 2.0


def systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    program = shutil.which("systemd-analyze")
    assert program is not None, "systemd-analyze is missing: apt-get install systemd"
    return subprocess.run([program, *args], capture_output=True, text=True, timeout=60, check=False)


def directives(text: str) -> dict[str, list[str]]:
    """`Section.Key` -> every value given (a key may repeat, e.g. SystemCallFilter)."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


def local_copy(unit: str, tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this virtualenv's console script."""
    script = Path(sys.executable).with_name(UNITS[unit])
    assert script.exists(), f"{script} is missing: install the package into this virtualenv"
    text = (ROOT / "systemd" / unit).read_text()
    copy = text.replace(INSTALLED_BIN + UNITS[unit], str(script))
    changed = [a for a, b in zip(text.splitlines(), copy.splitlines(), strict=True) if a != b]
    assert [line.split("=")[0] for line in changed] == ["ExecStart"]
    path = tmp_path / unit
    path.write_text(copy)
    return path


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_unit_passes_systemd_analyze_verify(unit: str, tmp_path: Path) -> None:
    result = systemd_analyze("verify", str(local_copy(unit, tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # not even a warning


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_unit_exposure_is_at_most_2(unit: str, tmp_path: Path) -> None:
    result = systemd_analyze("security", "--offline=true", str(local_copy(unit, tmp_path)))
    assert result.returncode == 0, result.stderr
    found = re.search(rf"Overall exposure level for {re.escape(unit)}: (\d+\.\d)", result.stdout)
    assert found is not None, result.stdout
    exposure = float(found.group(1))
    print(f"{unit}: systemd-analyze security exposure {exposure}")
    assert exposure <= MAX_EXPOSURE, result.stdout


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_unit_is_a_notify_service_with_watchdog_reload_and_restart(unit: str) -> None:
    service = directives((ROOT / "systemd" / unit).read_text())
    assert service["Service.Type"] == ["notify"]
    assert service["Service.NotifyAccess"] == ["main"]
    assert service["Service.WatchdogSec"] == ["30s"]
    assert service["Service.ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert service["Service.Restart"] == ["on-failure"]
    assert service["Service.ExecStart"][0].startswith(INSTALLED_BIN + UNITS[unit] + " ")
    assert service["Service.User"][0] not in ("", "root")
    assert service["Service.CapabilityBoundingSet"] == [""]


def test_launchd_plist_keeps_the_agent_running_as_its_own_user() -> None:
    with (ROOT / "launchd" / "org.portico.agent.plist").open("rb") as f:
        plist = plistlib.load(f)
    assert plist["Label"] == "org.portico.agent"
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}  # restarted unless it stopped cleanly
    assert plist["UserName"] == "portico"
    program, *args = plist["ProgramArguments"]
    assert program == INSTALLED_BIN + "portico-agent"
    assert args[0] == "run" and Path(args[args.index("--config") + 1]).is_absolute()
    for key in ("StandardOutPath", "StandardErrorPath"):
        assert Path(plist[key]).is_absolute(), key
    assert plist["ExitTimeOut"] > 20  # the agent drains for up to 20 s after SIGTERM
