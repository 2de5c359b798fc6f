"""The demo patient's ready login: made when the demo practice is seeded, and what `make demo`
prints about it on every run.

The login is printed when the demo practice is seeded and printed again on later runs. By
then the patient may have changed the password or the email in the portal, and the first
login no longer signs in: printing it anyway sends the person trying the demo into the
sign-in lockout. So scripts/demo.sh asks this module, which checks the saved login against
the account as it is now (the same argon2 check sign-in does), and prints it only if it still
works; otherwise it says so and how to start afresh.

Run as `python -m agent.demo.login CONFIG LOGIN_FILE`; prints one line, exits 0.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.access import queries
from agent.access.identifiers import IdentifierRefused, normalise_email
from agent.access.passwords import PasswordHasher
from agent.config import ConfigInvalid, load_config
from agent.db import Database, DatabaseUnavailable
from agent.demo.practice import DemoSeedRefused
from agent.wiring import database_settings, practice_store

DEMO_PASSWORD = "Portico demo visit 2026"
PREFIX = "demo patient login: "
RESET = "run `make demo-reset`, then `make demo`, for a fresh demo"


def create_demo_login(connection: Any, password_hash: str, *, now: datetime) -> str:
    """Give the first demo patient with an email and zip an active portal account, so the
    demo has a ready login. Returns the login email. Demo databases only: refuses when the
    patient already has an account."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.email FROM patients p"
            " LEFT JOIN portal_accounts a ON a.patient_id = p.id"
            " WHERE p.email IS NOT NULL AND p.home_zip IS NOT NULL AND a.id IS NULL"
            # The demo login should have something to show: upcoming and past visits.
            " ORDER BY (SELECT COUNT(*) FROM appointments x WHERE x.patient_id = p.id"
            " AND x.status = 'booked') DESC, p.id LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            raise DemoSeedRefused("no demo patient without an account is left")
        patient_id, email = (row["id"], row["email"]) if isinstance(row, dict) else row
        address = normalise_email(email)
        cursor.execute(
            "INSERT INTO portal_accounts (patient_id, email, login_email, password_hash,"
            " status, access_enabled, created_at, activated_at, password_changed_at)"
            " VALUES (%s, %s, %s, %s, 'active', 1, %s, %s, %s)",
            (patient_id, address, address, password_hash, *(3 * [now.replace(tzinfo=None)])),
        )
    connection.commit()
    return address


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
    config = load_config(config_path)
    try:
        address = normalise_email(login)
    except IdentifierRefused:
        return False
    db = Database(database_settings(config))
    try:
        account = await db.transaction(
            queries.account_by, practice_store(config, db), "a.login_email", address
        )
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
    if len(argv) != 2:
        print("usage: python -m agent.demo.login CONFIG LOGIN_FILE", file=sys.stderr)
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
