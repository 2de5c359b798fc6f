"""The appointment emails in both `email.appointment_details` modes: the time always, the
provider and type only with `with_provider`, the calendar file attached, and nothing the
words do not hold (there is no field for a reason or a note)."""

from __future__ import annotations

import email.policy
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage

import pytest

from agent.mail.emails import AppointmentWords, Attachment, Mail, MailTemplates
from agent.mail.senders import build_message

templates = MailTemplates(
    practice_name="Example Family Clinic",
    practice_phone="+1 555 0100",
    portal_url="https://example-clinic.portal.example.com",
)
WHEN = "Wednesday, November 25, 2026 at 10:00 AM EST"
MODES = {
    "date_time": AppointmentWords(WHEN),
    "with_provider": AppointmentWords(WHEN, "Dr. Adams", "Follow-up"),
}
RENDER: dict[str, Callable[..., Mail]] = {
    "booked": templates.appointment_booked,
    "moved": templates.appointment_moved,
    "cancelled": templates.appointment_cancelled,
}
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", RENDER)
def test_each_mode_says_what_it_allows(kind: str, mode: str) -> None:
    method = "CANCEL" if kind == "cancelled" else "REQUEST"
    calendar = Attachment("appointment.ics", f"text/calendar; method={method}", ICS)
    mail = RENDER[kind](
        to="ann@example.org", first_name="Ann", appointment=MODES[mode], calendar=calendar
    )
    for body in (mail.text, mail.html):
        assert WHEN in body
        assert ("Dr. Adams" in body) == (mode == "with_provider")
        assert ("Follow-up" in body) == (mode == "with_provider")
        assert "appointment.ics" in body  # the body says what the attachment is for
    assert WHEN not in mail.subject and "Dr. Adams" not in mail.subject
    assert mail.attachment == calendar

    sent = message_from_bytes(
        build_message(mail, from_address="portal@example-clinic.com").as_bytes(),
        policy=email.policy.default,
    )
    assert isinstance(sent, EmailMessage)
    assert sent.get_content_type() == "multipart/mixed"
    assert sent.get_body(preferencelist=("plain",)) is not None
    (part,) = list(sent.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == method
    assert part.get_filename() == "appointment.ics"
    assert part.get_content().replace("\r\n", "\n") == ICS.replace("\r\n", "\n")


def test_a_mail_without_attachment_stays_multipart_alternative() -> None:
    mail = templates.portal_ready(to="ann@example.org", first_name="Ann")
    message = build_message(mail, from_address="portal@example-clinic.com")
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []
