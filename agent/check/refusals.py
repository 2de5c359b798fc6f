"""Why the database turned ``portico-agent check`` away: a MariaDB/MySQL error code made into
the database item's FAIL line, with the fix that office IT can run (the account the server
looked for, the RENAME USER or ALTER USER statement, the setting to correct)."""

from __future__ import annotations

import re
import socket

import pymysql

from agent.check.grants import quote_account
from agent.config import AgentConfig
from protocol.service.check_report import CheckResult, fail

ACCESS_DENIED, DB_ACCESS_DENIED, UNKNOWN_DATABASE = 1045, 1044, 1049
HOST_NOT_ALLOWED = 1130  # no account of any user for this address
# MariaDB answers a failed login now and then with 1698 ("Access denied for user 'u'@'h'",
# without "using password") instead of 1045: 12 of 60 logins to fresh accounts here. The same
# refusal, so it gets the same hint.
ACCESS_DENIED_NO_PASSWORD = 1698
CANNOT_CONNECT, UNKNOWN_HOST, LOST = 2003, 2005, 2013


def error_code(exc: pymysql.MySQLError) -> int | None:
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else None


def error_reason(exc: pymysql.MySQLError) -> str:
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)


def connect_failure(config: AgentConfig, exc: pymysql.MySQLError) -> CheckResult:
    db = config.database
    code = error_code(exc)
    where = f"{db.host}:{db.port}"
    if code in (ACCESS_DENIED, ACCESS_DENIED_NO_PASSWORD, HOST_NOT_ALLOWED):
        return _refused(config, exc)
    if code == DB_ACCESS_DENIED:
        return fail(
            "database",
            f"user {db.user} may not use database {db.name}",
            fix=("grant it the rights Portico needs: see the grants item",),
        )
    if code == UNKNOWN_DATABASE:
        return fail(
            "database",
            f"there is no database named {db.name} at {where}",
            fix=(
                "set database.name to the practice database's name exactly as the practice "
                "system created it (SHOW DATABASES lists them)",
            ),
        )
    if code in (CANNOT_CONNECT, UNKNOWN_HOST, LOST):
        return fail(
            "database",
            f"nothing answers as a database at {where}",
            fix=(
                "check that MariaDB/MySQL is running and that database.host and "
                "database.port point at it",
            ),
        )
    return fail("database", f"cannot connect to {where}: {error_reason(exc)}")


def _refused(config: AgentConfig, exc: pymysql.MySQLError) -> CheckResult:
    """Access denied: name the account the server looked for. MariaDB and MySQL match an
    account's host against where the connection comes from. The agent always connects over TCP
    to database.host, so from 127.0.0.1 (or ::1, or this machine's LAN address), and a server
    with skip-name-resolve never calls that "localhost": 'portico'@'localhost' only matches
    the server's local socket, which the agent does not use."""
    db = config.database
    seen = _refused_host(exc) or _local_address(db.host, db.port) or db.host
    account = quote_account(f"{db.user}@{seen}")
    fix = [
        f"the account must be {account}: the server sees the agent's connections to "
        f"database.host come from {seen}; as the database administrator run, if the user was "
        "made for another host (such as 'localhost'),",
    ]
    if seen != "localhost":
        fix.append(f"RENAME USER {quote_account(f'{db.user}@localhost')} TO {account};")
    fix += [
        "or, if the password is what differs, set it to the one in database.password_file:",
        f"ALTER USER {account} IDENTIFIED BY 'the-password-in-database.password_file';",
    ]
    return fail(
        "database",
        f"the database at {db.host}:{db.port} refused {account} (no such account for "
        f"{seen}, or a wrong password)",
        fix=fix,
    )


# MariaDB and MySQL: "Access denied for user 'portico'@'127.0.0.1' (using password: YES)",
# "Host '127.0.0.1' is not allowed to connect to this MariaDB server".
_DENIED_ACCOUNT = re.compile(r"for user '(?:[^'\\]|\\.)*'@'([^']*)'|^Host '([^']*)' is not")


def _refused_host(exc: pymysql.MySQLError) -> str | None:
    match = _DENIED_ACCOUNT.search(error_reason(exc))
    return (match[1] or match[2]) if match else None


def _local_address(host: str, port: int) -> str | None:
    """The address this machine uses to reach ``host`` (a UDP "connect" sends nothing)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(address)
            return str(probe.getsockname()[0])
    except OSError:
        return None
