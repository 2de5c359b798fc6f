"""The files item of ``portico-agent check``: can the agent's service user read every file the
config names (the config itself, the link key and certificate, the password files)?

Office IT run the check as root, who can read anything, while systemd runs the agent as
``User=portico``: a password file left ``root:root 600`` looked fine to the check and then
stopped the daemon at start. So, as root, the files are opened in a forked child that has
become the service user (its groups, then its uid), which answers exactly what the kernel will
answer the agent (modes, owners, groups, ACLs, the folders above), without guessing from mode
bits. Run as anyone else, the check can only test as itself and says so.
"""

from __future__ import annotations

import errno
import grp
import json
import os
import pwd
import re
from pathlib import Path

from agent.config import AgentConfig, named_files, unreadable_files
from protocol.service.check_report import CheckResult, fail, ok, warn

DEFAULT_SERVICE_USER = "portico"
"""``User=`` of systemd/portico-agent.service (and ``UserName`` of the launchd plist)."""
INSTALLED_UNITS = (
    Path("/etc/systemd/system/portico-agent.service"),
    Path("/lib/systemd/system/portico-agent.service"),
    Path("/usr/lib/systemd/system/portico-agent.service"),
)
_USER_LINE = re.compile(r"^\s*User\s*=\s*(\S+)\s*$", re.MULTILINE)

Problem = tuple[str, Path, str]


def service_user(units: tuple[Path, ...] = INSTALLED_UNITS) -> str:
    """The user the installed unit runs the agent as; the shipped unit's when none is
    installed (or it names none)."""
    for unit in units:
        try:
            text = unit.read_text(encoding="utf-8")
        except OSError:
            continue
        found = _USER_LINE.findall(text)
        if found:
            return str(found[-1])  # systemd: the last assignment wins
    return DEFAULT_SERVICE_USER


def check_files(config_path: Path, config: AgentConfig, as_user: str) -> CheckResult:
    files = [("the config file", config_path), *named_files(config)]
    try:
        user = pwd.getpwnam(as_user)
    except KeyError:
        return fail(
            "files",
            f"there is no user {as_user} on this server to test the files as",
            fix=(
                "create the agent's user (docs/install.md, step 1), or name the user the "
                "service runs as with --as-user",
            ),
        )
    me = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0 and user.pw_uid != 0:
        problems = _unreadable_as(user, files)
    elif os.geteuid() == user.pw_uid:
        problems = unreadable_files(files)
    else:
        return warn(
            "files",
            f"not tested as {as_user}: only root can test files as another user",
            fix=(f"run the check as root or as {as_user}",),
        )
    names = ", ".join(path.name for _, path in files)
    if not problems:
        return ok("files", f"{as_user} can read {names}")
    group = _group_name(user.pw_gid)
    fixes = []
    for _, path, reason in problems:
        if reason == os.strerror(errno.ENOENT):
            fixes.append(f"create {path} (see the comment above its setting in the config)")
        else:
            fixes.append(f"chown root:{group} {path} && chmod 640 {path}")
    return fail(
        "files",
        f"{as_user} cannot read {len(problems)} of the {len(files)} files the agent needs"
        f"{'' if me == as_user else ' (tested as that user)'}:",
        details=[f"{setting} {path}: {reason}" for setting, path, reason in problems],
        fix=(
            f"as root run (folders above them must let group {group} through: chmod 750)",
            *fixes,
        ),
    )


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _unreadable_as(user: pwd.struct_passwd, files: list[tuple[str, Path]]) -> list[Problem]:
    """:func:`unreadable_files` in a child that became ``user`` exactly as systemd makes the
    service (``User=`` and that user's groups); the parent stays root."""
    groups = os.getgrouplist(user.pw_name, user.pw_gid)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never raises past here
        status = 1
        try:
            os.close(read_end)
            os.setgroups(groups)
            os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
            os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)
            found = [[s, str(p), r] for s, p, r in unreadable_files(files)]
            with os.fdopen(write_end, "w") as out:
                json.dump(found, out)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as answer_file:
        answer = answer_file.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not answer:
        return [(s, p, f"could not be tested as {user.pw_name}") for s, p in files]
    return [(setting, Path(path), reason) for setting, path, reason in json.loads(answer)]
