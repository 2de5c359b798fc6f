"""Demo mode: each mail becomes an .eml file only the agent's user can read."""

from __future__ import annotations

import stat
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from agent.mail.emails import MailTemplates
from agent.mail.outbox import FolderSender, MailRetryLater

PORTAL = "http://example-clinic.localhost:8080"
templates = MailTemplates(
    practice_name="Example Family Clinic", practice_phone="+1 555 0100", portal_url=PORTAL
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_writes_a_parseable_eml_readable_only_by_the_owner(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "outbox"  # does not exist yet
    sender = FolderSender(outbox, "portal@example-clinic.com")
    await sender.send(templates.invite(to="zoë@example.org", first_name="Zoë", token="tok/1"))
    await sender.send(templates.new_message_notice(to="bob@example.org", first_name="Bob"))

    assert mode(outbox) == 0o700
    files = sorted(outbox.iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)  # no temporary left over
    assert all(mode(f) == 0o600 for f in files)
    names = [f.name for f in files]
    assert len(set(names)) == 2 and all(name[:8].isdigit() for name in names)

    messages = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
    invite = next(m for m in messages if m["To"] == "zoë@example.org")
    assert invite.get_content_type() == "multipart/alternative"
    assert invite["From"] == "portal@example-clinic.com" and invite["Message-ID"]
    text = invite.get_body(preferencelist=("plain",))
    html = invite.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert f"{PORTAL}/activate?token=tok%2F1" in text.get_content()
    assert "Hello Zoë," in text.get_content() and "Hello Zoë," in html.get_content()


async def test_keeps_an_existing_folders_permissions(tmp_path: Path) -> None:
    tmp_path.chmod(0o750)
    await FolderSender(tmp_path, "portal@localhost").send(
        templates.password_changed_notice(to="ann@example.org", first_name="Ann")
    )
    assert mode(tmp_path) == 0o750
    [written] = tmp_path.iterdir()
    assert mode(written) == 0o600


async def test_an_unwritable_folder_means_retry_later(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(MailRetryLater) as failed:
        await FolderSender(blocked, "portal@localhost").send(
            templates.password_changed_notice(to="ann@example.org", first_name="Ann")
        )
    assert failed.value.code == "folder"
