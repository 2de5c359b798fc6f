"""Every email renders as plain text and HTML, in plain words, with safe links and no PHI."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from agent.mail.emails import AppointmentWords, Attachment, Mail, MailTemplates

PORTAL = "https://example-clinic.portal.example.com"
PRACTICE, PHONE = "Example Family Clinic", "+1 555 0100"
TO = "ann.example@example.org"
TOKEN = "Zx9-_a/b+c=d&e f"  # characters that must be escaped in a query string

templates = MailTemplates(practice_name=PRACTICE, practice_phone=PHONE, portal_url=PORTAL + "/")
WHEN = AppointmentWords("Wednesday, November 25, 2026 at 10:00 AM EST")
ICS = Attachment("appointment.ics", "text/calendar; method=REQUEST", "BEGIN:VCALENDAR\r\n")

# name -> (render(first_name), path of its link or None (notices carry no link: "call the
# office" is what we want then), token in link, validity shown or None)
EMAILS: dict[str, tuple[Callable[[str], Mail], str | None, bool, str | None]] = {
    "invite": (
        lambda first: templates.invite(to=TO, first_name=first, token=TOKEN),
        "/activate",
        True,
        "3 days",
    ),
    "verify_email": (
        lambda first: templates.verify_email(to=TO, first_name=first, token=TOKEN),
        "/verify",
        True,
        "2 days",
    ),
    "reset_password": (
        lambda first: templates.reset_password(to=TO, first_name=first, token=TOKEN),
        "/reset",
        True,
        "1 hour",
    ),
    "confirm_new_email": (
        lambda first: templates.confirm_new_email(to=TO, first_name=first, token=TOKEN),
        "/confirm-email",
        True,
        "1 day",
    ),
    "email_changed_notice": (
        lambda first: templates.email_changed_notice(
            to=TO, first_name=first, new_address_masked="n***@example.net"
        ),
        None,
        False,
        None,
    ),
    "password_changed_notice": (
        lambda first: templates.password_changed_notice(to=TO, first_name=first),
        None,
        False,
        None,
    ),
    "new_message_notice": (
        lambda first: templates.new_message_notice(to=TO, first_name=first),
        "/messages",
        False,
        None,
    ),
    "registration_call_office": (
        lambda first: templates.registration_call_office(to=TO, first_name=first),
        None,
        False,
        None,
    ),
    "portal_ready": (
        lambda first: templates.portal_ready(to=TO, first_name=first),
        "/sign-in",
        False,
        None,
    ),
    "appointment_booked": (
        lambda first: templates.appointment_booked(
            to=TO, first_name=first, appointment=WHEN, calendar=ICS
        ),
        "/appointments",
        False,
        None,
    ),
    "appointment_moved": (
        lambda first: templates.appointment_moved(
            to=TO, first_name=first, appointment=WHEN, calendar=ICS
        ),
        "/appointments",
        False,
        None,
    ),
    "appointment_cancelled": (
        lambda first: templates.appointment_cancelled(
            to=TO, first_name=first, appointment=WHEN, calendar=ICS
        ),
        "/appointments",
        False,
        None,
    ),
}
NOTICES = ("email_changed_notice", "password_changed_notice")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value or "" for name, value in attrs if tag == "a" and name == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def _visible(html: str) -> str:
    return " ".join("".join(_parse(html).text).split())


@pytest.mark.parametrize("name", EMAILS)
def test_renders_text_and_html_with_practice_name_and_phone(name: str) -> None:
    mail = EMAILS[name][0]("Ann")
    assert mail.to == TO
    assert PRACTICE in mail.subject and "\n" not in mail.subject
    for body in (mail.text, _visible(mail.html)):
        assert "Hello Ann," in body
        assert PRACTICE in body and PHONE in body
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in mail.html
    assert "tel:+15550100" in _parse(mail.html).hrefs
    assert "{{" not in mail.text + mail.html and "{%" not in mail.text + mail.html


@pytest.mark.parametrize("name", EMAILS)
def test_links_point_at_the_portal_with_the_token_url_encoded(name: str) -> None:
    render, path, has_token, _ = EMAILS[name]
    mail = render("Ann")
    portal_links = [h for h in _parse(mail.html).hrefs if not h.startswith("tel:")]
    text_links = re.findall(r"https?://\S+", mail.text)
    if path is None:
        assert portal_links == [] and text_links == []
        return
    assert portal_links and text_links
    for link in portal_links + text_links:
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == PORTAL
        assert parts.path == path
        if has_token:
            assert parse_qs(parts.query) == {"token": [TOKEN]}
            assert " " not in link and "+" not in link and "&e" not in link
        else:
            assert parts.query == ""


@pytest.mark.parametrize("name", EMAILS)
def test_says_how_long_the_link_works(name: str) -> None:
    render, _, _, validity = EMAILS[name]
    mail = render("Ann")
    if validity is not None:
        assert f"This link works for {validity}." in mail.text
        assert f"This link works for {validity}." in mail.html


def test_validity_follows_valid_hours() -> None:
    mail = templates.reset_password(to=TO, first_name="Ann", token="t", valid_hours=2)
    assert "This link works for 2 hours." in mail.text
    mail = templates.invite(to=TO, first_name="Ann", token="t", valid_hours=24 * 7)
    assert "This link works for 7 days." in mail.html


@pytest.mark.parametrize("name", NOTICES)
def test_notices_tell_the_patient_to_call_if_it_was_not_them(name: str) -> None:
    mail = EMAILS[name][0]("Ann")
    line = f"If this wasn't you, call the office right away at {PHONE}."
    assert line in mail.text
    assert line in _visible(mail.html)


def test_email_change_notice_shows_only_the_masked_new_address() -> None:
    mail = templates.email_changed_notice(
        to=TO, first_name="Ann", new_address_masked="n***@example.net"
    )
    assert "n***@example.net" in mail.text and "n***@example.net" in mail.html


def test_new_message_notice_names_the_practice_not_the_message() -> None:
    mail = templates.new_message_notice(to=TO, first_name="Ann")
    assert mail.subject == f"You have a new message from {PRACTICE}"
    assert f"You have a new message from {PRACTICE}." in mail.text


@pytest.mark.parametrize("name", EMAILS)
def test_html_escapes_the_first_name(name: str) -> None:
    mail = EMAILS[name][0]("<b>Ann</b> & co")
    assert "<b>Ann</b>" not in mail.html
    assert "Hello &lt;b&gt;Ann&lt;/b&gt; &amp; co," in mail.html
    assert "Hello <b>Ann</b> & co," in mail.text  # plain text is not HTML: shown as typed


@pytest.mark.parametrize("name", EMAILS)
def test_nothing_personal_but_the_first_name(name: str) -> None:
    mail = EMAILS[name][0]("Ann")
    # The recipient's address is only on the envelope and the To header, never in the body.
    for part in (mail.subject, mail.text, mail.html):
        assert TO not in part and "ann.example" not in part
    assert "Ann" not in mail.subject


def test_an_evil_host_cannot_get_into_links() -> None:
    """Links come from the configured portal url; there is no other input to build them from."""
    mail = templates.invite(to=TO, first_name="Ann", token="https://evil.example/x")
    for link in re.findall(r"https?://\S+", mail.text):
        assert link.startswith(PORTAL + "/activate?token=")
    assert "https%3A%2F%2Fevil.example%2Fx" in mail.text
