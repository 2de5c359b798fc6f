"""What `make demo` prints about the demo patient's login on every run.

The login is printed when the demo practice is seeded and printed again on later runs. By
then the patient may have changed the password or the email in the portal, and the first
login no longer signs in: printing it anyway sends the person trying the demo into the
sign-in lockout. So scripts/demo.sh asks this module, which checks the saved login against
the account as it is now (the same argon2 check sign-in does), and prints it only if it still
works; otherwise it says so and how to start afresh.

Run as `python -m agent.demo_login CONFIG LOGIN_FILE`; prints one line, exits 0.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

PREFIX = "demo patient login: "
RESET = "run `make demo-reset`, then `make demo`, for a fresh demo"


def read_saved_login(login_file: Path) -> tuple[str, str] | None:
    """(login, password) from the line seed-demo printed, or None if there is none."""
    try:
        line = login_file.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    login, separator, password = line.removeprefix(PREFIX).partition(" / ")
    if not line.startswith(PREFIX) or not separator or not login or not password:
        return None
    return login, password


async def login_still_works(config_path: Path, login: str, password: str) -> bool:
    """Whether `login` / `password` would sign in to the demo now (account active, access on,
    password right). Reads only: no session, no audit row, no failed-login count."""
    from agent.access import queries as store
    from agent.access.identifiers import IdentifierRefused, normalise_email
    from agent.access.passwords import PasswordHasher
    from agent.config import load_config
    from agent.daemon import database_settings
    from agent.db import Database

    config = load_config(config_path)
    try:
        address = normalise_email(login)
    except IdentifierRefused:
        return False
    db = Database(database_settings(config))
    try:
        account = await db.transaction(store.account_by, "a.login_email", address)
    finally:
        await db.close()
    if account is None or account["status"] != "active" or not account["access_enabled"]:
        return False
    if not account["password_hash"]:
        return False
    hasher = PasswordHasher()
    try:
        return await hasher.verify(account["password_hash"], password)
    finally:
        hasher.close()


def login_line(config_path: Path, login_file: Path) -> str:
    saved = read_saved_login(login_file)
    if saved is None:
        return f"{PREFIX}not known (it was printed when the demo was first set up); {RESET}"
    login, password = saved
    if asyncio.run(login_still_works(config_path, login, password)):
        return f"{PREFIX}{login} / {password}"
    return (
        f"{PREFIX}changed in the portal since the demo was set up (the first one no longer "
        f"signs in). Sign in with the new details, or {RESET}"
    )


def main(argv: list[str]) -> int:
    from agent.config import ConfigInvalid
    from agent.db import DatabaseUnavailable

    if len(argv) != 2:
        print("usage: python -m agent.demo_login CONFIG LOGIN_FILE", file=sys.stderr)
        return 2
    try:
        line = login_line(Path(argv[0]), Path(argv[1]))
    except ConfigInvalid:
        line = f"{PREFIX}not checked: the demo's agent.yaml is not valid; {RESET}"
    except (OSError, DatabaseUnavailable):
        line = f"{PREFIX}not checked: the demo database cannot be reached; {RESET}"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
