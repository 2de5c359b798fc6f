"""Email addresses and usernames as stored, compared and made unique: pure functions, no I/O.

DESIGN.md "Access rules": emails are compared after NFKC + casefold + trim, and addresses with
invisible or mixed-script tricks are refused, so no address can collide with another account's.
The normalised form returned here is the one to store and to compare; uniqueness is enforced on it.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LOCAL_PART = 64
MAX_EMAIL = 254
MIN_USERNAME = 3
MAX_USERNAME = 32


class IdentifierRefused(ValueError):
    """An email address or username we will not accept.

    `.message` is plain English safe to show a patient: it never repeats the value or mentions
    another account. `.code` is stable, for forms and tests.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# The stored form of an address is printable ASCII only. Lookalike letters (Cyrillic a U+0430,
# Greek omicron U+03BF, dotless i U+0131) and invisible characters (U+200F RIGHT-TO-LEFT MARK,
# zero-width joiners, soft hyphens...) are how two addresses that look the same end up as two
# accounts, or how one patient's invite reaches a lookalike mailbox. Refusing everything outside
# ASCII makes such confusable collisions impossible without a confusables table to keep current,
# at a small cost: internationalised mailbox names (RFC 6531) are rare in practice, and an
# internationalised domain can still be given in its xn-- (punycode) form.
_WHITESPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")

# A conservative dot-atom (RFC 5322 section 3.2.3): no quoted local parts, no comments.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOP_LEVEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")

_USERNAME = re.compile(r"[a-z0-9._-]*")

_NOT_PLAIN = "Please enter an email address with only plain letters, digits and . _ - +"
_INCOMPLETE = "This email address is not complete (it needs an @ and a domain)"


def _fold(raw: str) -> str:
    # NFKC first so that compatibility forms (fullwidth A U+FF21, the Kelvin sign U+212A) become
    # the letter they stand for, then casefold, then trim: "\u212aate@example.org" and
    # "KATE@example.org" are then the same stored address, and uniqueness treats them as one.
    return unicodedata.normalize("NFKC", raw).casefold().strip()


def normalise_email(raw: str) -> str:
    """The stored, compared form of an email address; raises IdentifierRefused if unacceptable."""
    email = _fold(raw)
    if not email:
        raise IdentifierRefused("email_empty", "Please enter your email address")
    if not email.isascii():
        raise IdentifierRefused("email_characters", _NOT_PLAIN)
    if _WHITESPACE_OR_CONTROL.search(email):
        raise IdentifierRefused(
            "email_whitespace", "An email address cannot contain spaces or line breaks"
        )
    at_signs = email.count("@")
    if at_signs == 0:
        raise IdentifierRefused("email_incomplete", _INCOMPLETE)
    if at_signs > 1:
        raise IdentifierRefused("email_at_signs", "An email address has exactly one @")
    local, _, domain = email.partition("@")
    if not local or not domain:
        raise IdentifierRefused("email_incomplete", _INCOMPLETE)
    if len(local) > MAX_LOCAL_PART:
        raise IdentifierRefused(
            "email_local_too_long",
            f"The part before the @ is too long (at most {MAX_LOCAL_PART} characters)",
        )
    if len(email) > MAX_EMAIL:
        raise IdentifierRefused(
            "email_too_long", f"This email address is too long (at most {MAX_EMAIL} characters)"
        )
    if not _LOCAL_PART.fullmatch(local):
        raise IdentifierRefused(
            "email_local_part",
            "The part before the @ can use letters, digits and . _ - +, but cannot start or end "
            "with a dot or have two dots together",
        )
    labels = domain.split(".")
    if (
        len(labels) < 2
        or not all(_DNS_LABEL.fullmatch(label) for label in labels)
        or not _TOP_LEVEL.fullmatch(labels[-1])
    ):
        raise IdentifierRefused(
            "email_domain",
            "The part after the @ is not a valid domain (it should look like example.org)",
        )
    return email


def normalise_username(raw: str) -> str:
    """The stored, compared form of a username; raises IdentifierRefused if unacceptable.

    Usernames exist for families sharing one email address (seed 004), so each account still has
    its own login; they never contain "@", so a login is unambiguously an email or a username.
    """
    username = _fold(raw)
    if not username:
        raise IdentifierRefused("username_empty", "Please enter a username")
    if "@" in username:
        raise IdentifierRefused(
            "username_at_sign",
            "A username cannot contain @, so that it is never mistaken for an email address",
        )
    if not username.isascii() or not _USERNAME.fullmatch(username):
        raise IdentifierRefused(
            "username_characters",
            "A username can only use the letters a to z, digits and . _ -",
        )
    if not MIN_USERNAME <= len(username) <= MAX_USERNAME:
        raise IdentifierRefused(
            "username_length",
            f"A username needs {MIN_USERNAME} to {MAX_USERNAME} characters",
        )
    if not username[0].isalnum():
        raise IdentifierRefused("username_start", "A username must start with a letter or a digit")
    return username


def normalise_login(raw: str) -> str:
    """What a patient typed to sign in, as stored: an email address if it has an "@" (after
    NFKC, so a fullwidth at sign counts), else a username. Which one does not depend on
    access.identity: an account keeps signing in the way it was made (issue 11)."""
    if "@" in unicodedata.normalize("NFKC", raw):
        return normalise_email(raw)
    return normalise_username(raw)


def mask_email(normalised: str) -> str:
    """A normalised address for display and notices: "jane@example.org" -> "j***@example.org".

    Always three stars, so the mask does not reveal the local part's length.
    """
    local, at, domain = normalised.rpartition("@")
    if not at or not local:
        raise ValueError("mask_email expects an address returned by normalise_email")
    return f"{local[0]}***@{domain}"
