"""Issue 11: "Password-file permissions: the config comment says 600, install.md 640; with 600 the
service user crashes with a traceback (a restart loop under systemd). `check` must test the
files as the service user, and the agent must print a one-line error, never a traceback, for
any file it cannot read."

The programs run as office IT and systemd run them: the installed `portico-agent` in a
subprocess, as root and as an unprivileged throwaway system user (made with `useradd` and
removed afterwards), against real files with real modes.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from agent.check.files import DEFAULT_SERVICE_USER, service_user
from agent.db.pool import DatabaseSettings
from tests.support.keys import make_keys
from tests.support.practice import agent_config_data

AGENT = str(Path(sys.executable).parent / "portico-agent")


@pytest.fixture
def system_user() -> Iterator[pwd.struct_passwd]:
    """A system user and its own group, like install.md step 1's `portico`."""
    name = f"ptc{secrets.token_hex(4)}"
    subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--shell",
         "/usr/sbin/nologin", name],
        check=True,
    )  # fmt: skip
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False)
        subprocess.run(["groupdel", name], check=False, capture_output=True)


@pytest.fixture
def etc_portico() -> Iterator[Path]:
    """A folder like /etc/portico: outside root's private temp folder, so any user may reach
    it (what they may read inside is up to each file's mode)."""
    folder = Path(tempfile.mkdtemp(prefix="portico-etc-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def install(folder: Path, settings: DatabaseSettings, group: int) -> Path:
    """agent.yaml, keys and a db-password file, every one root:<group> 640 (install.md)."""
    keys = make_keys(folder / "keys")
    data = agent_config_data(settings, keys)
    password = folder / "db-password"
    password.write_text(settings.password + "\n")
    del data["database"]["password"]
    data["database"]["password_file"] = str(password)
    config = folder / "agent.yaml"
    config.write_text(yaml.safe_dump(data))
    for path in (folder / "keys", keys / "agent"):
        path.chmod(0o755)
    for path in (config, password, keys / "agent" / "key.pem", keys / "agent" / "cert.pem"):
        os.chown(path, 0, group)
        path.chmod(0o640)
    return config


# The test interpreter lives under /root, which a system user may not enter, so `runuser`
# cannot start it: the program starts as root and becomes the user (its uid, gid and groups,
# as systemd's User= does) before the command line runs. Every module a verb may import is
# loaded first, while the interpreter's own files can still be read.
AS_USER = """
import os, pwd, sys
import encodings.ascii, encodings.idna, encodings.latin_1, encodings.utf_8_sig
import agent.check.run, agent.cli, agent.daemon, agent.db.migrate, agent.demo.practice
user = pwd.getpwnam(sys.argv[1])
os.setgroups(os.getgrouplist(user.pw_name, user.pw_gid))
os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)
sys.exit(agent.cli.main(sys.argv[2:]))
"""


def agent(*argv: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", AS_USER, user, *argv] if user else [AGENT, *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def assert_one_line_naming(result: subprocess.CompletedProcess[str], path: Path) -> None:
    assert "Traceback" not in result.stderr
    assert result.returncode != 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]


@pytest.mark.parametrize("verb", ["run", "migrate", "seed-demo", "audit"])
def test_a_missing_password_file_is_one_line_for_every_verb(
    verb: str, practice_db: DatabaseSettings, etc_portico: Path
) -> None:
    config = install(etc_portico, practice_db, 0)
    (etc_portico / "db-password").unlink()

    result = agent(verb, "--config", str(config))

    assert_one_line_naming(result, etc_portico / "db-password")
    assert "No such file or directory" in result.stderr


@pytest.mark.parametrize(
    "unreadable", ["db-password", "keys/agent/key.pem", "keys/agent/cert.pem", "agent.yaml"]
)
def test_the_service_user_gets_one_line_for_a_file_it_cannot_read(
    unreadable: str,
    practice_db: DatabaseSettings,
    etc_portico: Path,
    system_user: pwd.struct_passwd,
) -> None:
    config = install(etc_portico, practice_db, system_user.pw_gid)
    (etc_portico / unreadable).chmod(0o000)

    result = agent("run", "--config", str(config), user=system_user.pw_name)

    assert_one_line_naming(result, etc_portico / unreadable)
    assert "Permission denied" in result.stderr


def test_check_as_root_tests_the_files_as_the_service_user(
    practice_db: DatabaseSettings, etc_portico: Path, system_user: pwd.struct_passwd
) -> None:
    config = install(etc_portico, practice_db, system_user.pw_gid)
    password = etc_portico / "db-password"
    os.chown(password, 0, 0)
    password.chmod(0o600)  # what the example's comment used to say: root reads it, nobody else
    as_user = ["check", "--config", str(config), "--as-user", system_user.pw_name]

    before = agent(*as_user, "--timeout", "0.5")
    os.chown(password, 0, system_user.pw_gid)
    password.chmod(0o640)
    after = agent(*as_user, "--timeout", "0.5")

    assert before.returncode == 1
    assert "Traceback" not in before.stderr + after.stderr
    assert any(line.startswith("FAIL  files ") for line in before.stdout.splitlines())
    assert f"{system_user.pw_name} cannot read" in before.stdout
    assert f"database.password_file {password}: Permission denied" in before.stdout
    assert f"chown root:{system_user.pw_name} {password} && chmod 640 {password}" in (before.stdout)
    assert any(
        line.startswith(f"OK    files        {system_user.pw_name} can read")
        for line in after.stdout.splitlines()
    ), after.stdout
    assert stat.S_IMODE(password.stat().st_mode) == 0o640


def test_the_default_user_is_the_one_the_shipped_services_run_as() -> None:
    root = Path(__file__).parents[3]
    unit = root / "systemd" / "portico-agent.service"
    plist = (root / "launchd" / "org.portico.agent.plist").read_text()

    assert service_user((unit,)) == DEFAULT_SERVICE_USER
    assert f"<key>UserName</key>\n    <string>{DEFAULT_SERVICE_USER}</string>" in plist
    assert service_user((root / "no-such.service",)) == DEFAULT_SERVICE_USER


def test_the_example_and_install_md_give_password_files_the_same_mode() -> None:
    root = Path(__file__).parents[3]
    example = (root / "config" / "agent.example.yaml").read_text()
    install_md = (root / "docs" / "install.md").read_text()

    for text in (example, install_md):
        assert "chmod 600" not in text
    assert "chown root:portico /etc/portico/db-password && chmod 640 /etc/portico/db-password" in (
        example
    )
    assert "chown root:portico /etc/portico/db-password && chmod 640 /etc/portico/db-password" in (
        install_md
    )
