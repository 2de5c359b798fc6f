"""Issue 11: "`check` reports `email.mode: folder` as OK (patients would get no mail): WARN."

Folder mode writes every invitation, reset and notice into a folder on this server: fine for
trying Portico out, but no patient ever receives one. `check` says so (a warning: the agent
works, exit status 0) and says how to send real mail.
"""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import check, least_privilege_user, write_config


def test_folder_mode_is_a_warning_that_patients_get_no_mail(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with least_privilege_user(practice_db, link_keys, tmp_path) as portico:
        path = write_config(tmp_path, portico, link_keys)  # email: mode folder

        run = check(path)

    mail = run.line("mail")
    assert mail.startswith("WARN  mail ")
    assert "patients get no email" in mail
    assert "fix: set email.mode: smtp" in mail
    assert run.status == 0, run.output
