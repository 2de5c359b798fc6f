"""The portal's emails, rendered from Jinja2 templates into plain-text + HTML bodies.

Every email carries a link and the patient's first name, and nothing else about the patient:
no last name, date of birth or message content (DESIGN.md "Mail"). The appointment emails
(issue 16) add the appointment's time, and the provider and type only when the office chose
``email.appointment_details: with_provider``; never a diagnosis, reason or note. Links are built
from the configured portal address only, never from the Host of whatever request caused the
email, so a forged Host header cannot make the portal mail out a link to someone else's site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jinja2


@dataclass(frozen=True, slots=True)
class Attachment:
    """One file sent with an email, as text (an iCalendar file is text, RFC 5545).

    ``content_type`` is the whole header value, parameters included, e.g.
    ``text/calendar; method=REQUEST`` (RFC 6047: a calendar client reads the method there)."""

    filename: str
    content_type: str
    text: str


@dataclass(frozen=True, slots=True)
class Mail:
    """One email ready to send: the recipient, the rendered subject and bodies, and at most
    one attachment (the appointment emails' calendar file)."""

    to: str
    subject: str
    text: str
    html: str
    attachment: Attachment | None = None


_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("agent.mail", "templates"),
    # HTML is escaped (a first name is typed by a person); the .txt bodies are not HTML.
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _plain_duration(hours: int) -> str:
    """'1 hour', '24 hours (1 day)' ... words an 80-year-old reads without doing arithmetic."""
    if hours == 1:
        return "1 hour"
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{hours} hours"


def _one_line(value: str) -> str:
    return " ".join(value.split())


class MailTemplates:
    """Renders each email the portal sends, for one practice."""

    def __init__(self, *, practice_name: str, practice_phone: str, portal_url: str) -> None:
        self._practice_name = _one_line(practice_name)
        self._practice_phone = _one_line(practice_phone)
        self._portal_url = portal_url.strip().rstrip("/")
        self._phone_href = "tel:" + re.sub(r"[^0-9+]", "", practice_phone)

    def _link(self, path: str, token: str | None = None) -> str:
        # Only from the configured address: never from the Host header of a request.
        if token is None:
            return f"{self._portal_url}{path}"
        return f"{self._portal_url}{path}?token={quote(token, safe='')}"

    def _render(
        self,
        name: str,
        *,
        to: str,
        subject: str,
        attachment: Attachment | None = None,
        **context: Any,
    ) -> Mail:
        values = {
            "practice_name": self._practice_name,
            "practice_phone": self._practice_phone,
            "phone_href": self._phone_href,
            "portal_url": self._portal_url,
            "subject": subject,
            **context,
        }
        text = _environment.get_template(f"{name}.txt").render(values)
        html = _environment.get_template(f"{name}.html").render(values)
        return Mail(to=to, subject=subject, text=text, html=html, attachment=attachment)

    def invite(self, *, to: str, first_name: str, token: str, valid_hours: int = 72) -> Mail:
        return self._render(
            "invite",
            to=to,
            subject=f"Your invitation to the {self._practice_name} patient portal",
            first_name=first_name,
            link=self._link("/activate", token),
            valid_for=_plain_duration(valid_hours),
        )

    def verify_email(self, *, to: str, first_name: str, token: str, valid_hours: int = 48) -> Mail:
        return self._render(
            "verify_email",
            to=to,
            subject=f"Please confirm your email for the {self._practice_name} patient portal",
            first_name=first_name,
            link=self._link("/verify", token),
            valid_for=_plain_duration(valid_hours),
        )

    def reset_password(self, *, to: str, first_name: str, token: str, valid_hours: int = 1) -> Mail:
        return self._render(
            "reset_password",
            to=to,
            subject=f"Set a new password for the {self._practice_name} patient portal",
            first_name=first_name,
            link=self._link("/reset", token),
            valid_for=_plain_duration(valid_hours),
        )

    def registration_call_office(self, *, to: str, first_name: str) -> Mail:
        """A sign-up that matched a patient the office has another address for: no link, and
        nothing about what is on file (the sender of the form may not be that patient)."""
        return self._render(
            "registration_call_office",
            to=to,
            subject=f"Your sign-up for the {self._practice_name} patient portal",
            first_name=first_name,
        )

    def confirm_new_email(
        self, *, to: str, first_name: str, token: str, valid_hours: int = 24
    ) -> Mail:
        return self._render(
            "confirm_new_email",
            to=to,
            subject=f"Please confirm your new email for the {self._practice_name} patient portal",
            first_name=first_name,
            link=self._link("/confirm-email", token),
            valid_for=_plain_duration(valid_hours),
        )

    def email_changed_notice(self, *, to: str, first_name: str, new_address_masked: str) -> Mail:
        """Sent to the OLD address, so a patient whose account was taken over finds out."""
        return self._render(
            "email_changed_notice",
            to=to,
            subject=f"Your email for the {self._practice_name} patient portal was changed",
            first_name=first_name,
            new_address_masked=new_address_masked,
        )

    def password_changed_notice(self, *, to: str, first_name: str) -> Mail:
        return self._render(
            "password_changed_notice",
            to=to,
            subject=f"Your password for the {self._practice_name} patient portal was changed",
            first_name=first_name,
        )

    def portal_ready(self, *, to: str, first_name: str) -> Mail:
        """Staff turned on access for an account that was waiting for them (seed 004)."""
        return self._render(
            "portal_ready",
            to=to,
            subject=f"Your {self._practice_name} patient portal account is ready",
            first_name=first_name,
            link=self._link("/sign-in"),
        )

    def new_message_notice(self, *, to: str, first_name: str) -> Mail:
        # The message itself stays in the portal: an email is not a safe place for it.
        return self._render(
            "new_message_notice",
            to=to,
            subject=f"You have a new message from {self._practice_name}",
            first_name=first_name,
            link=self._link("/messages"),
        )

    # -- appointments (issue 16): booked, moved, cancelled, each with its calendar file -----

    def appointment_booked(
        self, *, to: str, first_name: str, appointment: AppointmentWords, calendar: Attachment
    ) -> Mail:
        return self._appointment(
            "appointment_booked", "is booked", to, first_name, appointment, calendar
        )

    def appointment_moved(
        self, *, to: str, first_name: str, appointment: AppointmentWords, calendar: Attachment
    ) -> Mail:
        return self._appointment(
            "appointment_moved", "has a new time", to, first_name, appointment, calendar
        )

    def appointment_cancelled(
        self, *, to: str, first_name: str, appointment: AppointmentWords, calendar: Attachment
    ) -> Mail:
        return self._appointment(
            "appointment_cancelled", "is cancelled", to, first_name, appointment, calendar
        )

    def _appointment(
        self,
        name: str,
        done: str,
        to: str,
        first_name: str,
        appointment: AppointmentWords,
        calendar: Attachment,
    ) -> Mail:
        # The subject says no time: it shows on a locked phone's screen.
        return self._render(
            name,
            to=to,
            subject=f"Your appointment at {self._practice_name} {done}",
            attachment=calendar,
            first_name=first_name,
            when=appointment.when,
            provider=appointment.provider,
            appointment_type=appointment.appointment_type,
            link=self._link("/appointments"),
        )


@dataclass(frozen=True, slots=True)
class AppointmentWords:
    """What an appointment email may say about the appointment: its local date and time, and
    the provider and type only when the office's ``email.appointment_details`` is
    ``with_provider`` (None otherwise). There is no field for anything else, so a template
    cannot show a reason or a note by mistake."""

    when: str
    provider: str | None = None
    appointment_type: str | None = None
