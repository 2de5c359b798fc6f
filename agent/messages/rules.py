"""What a message may hold: the pure checks on bodies, subjects, authors and attachments.

No I/O here: the service and the CLI call these before anything touches the database, and
the tests exercise them directly.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

BODY_MAX = 5000
SUBJECT_MAX = 200
AUTHOR_MAX = 100
FILENAME_MAX = 255
MAX_ATTACHMENTS = 5
# One attachment travels base64-encoded (4/3 larger) in one link answer, capped at 8 MiB.
ATTACHMENT_MAX_BYTES = 3 * 1024 * 1024

# Extension -> (content type, how the file's first bytes must look). Checking the bytes as
# well as the name means a file the portal serves as an image or PDF really is one.
_PDF = ("application/pdf", b"%PDF-")
_PNG = ("image/png", b"\x89PNG\r\n\x1a\n")
_JPEG = ("image/jpeg", b"\xff\xd8\xff")
_TEXT = ("text/plain", b"")
ALLOWED_TYPES = {".pdf": _PDF, ".png": _PNG, ".jpg": _JPEG, ".jpeg": _JPEG, ".txt": _TEXT}
ALLOWED_NAMES = "pdf, png, jpg, jpeg or txt"


class MessageRefused(Exception):
    """Input a message cannot be made from; ``field`` names it, ``problem`` says what to fix
    (never quoting the text itself, which may be PHI)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def _encodable(text: str, field: str) -> None:
    # JSON may carry lone surrogates ("\ud800"): valid for Python, not storable as UTF-8.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MessageRefused(field, "contains characters that are not valid text") from None


def _one_line(text: str, field: str) -> None:
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise MessageRefused(field, "must be one line of text, without control characters")


def _sized(text: str, field: str, limit: int, empty: str) -> str:
    trimmed = text.strip()
    if not trimmed:
        raise MessageRefused(field, empty)
    if len(trimmed) > limit:
        raise MessageRefused(field, f"at most {limit:,} characters (this one has {len(trimmed):,})")
    return trimmed


def clean_body(text: str) -> str:
    """The body to store: any Unicode as typed, with surrounding whitespace trimmed."""
    _encodable(text, "body")
    return _sized(text, "body", BODY_MAX, "please write a message")


def clean_subject(text: str) -> str:
    _encodable(text, "subject")
    subject = _sized(text, "subject", SUBJECT_MAX, "please give the message a subject")
    _one_line(subject, "subject")
    return subject


def clean_author(text: str) -> str:
    """The name shown above an office message (`--from`), e.g. "Dr. Adams" or "Front desk"."""
    _encodable(text, "from")
    author = _sized(text, "from", AUTHOR_MAX, "please give a name")
    _one_line(author, "from")
    return author


def attachment_filename(path: str) -> str:
    """The name the patient will see: the file's own name, without its folders."""
    name = PurePath(path).name
    _encodable(name, "attach")
    if not name or len(name) > FILENAME_MAX:
        raise MessageRefused("attach", f"a file name has 1 to {FILENAME_MAX} characters")
    _one_line(name, "attach")
    return name


def content_type_for(filename: str) -> str:
    """The content type a file of this name is sent as; refused unless the type is allowed."""
    kind = ALLOWED_TYPES.get(PurePath(filename).suffix.lower())
    if kind is None:
        raise MessageRefused("attach", f"{filename}: only {ALLOWED_NAMES} files can be attached")
    return kind[0]


def check_attachment(filename: str, data: bytes) -> Attachment:
    """An attachment the portal may serve: an allowed type whose content matches its name,
    not empty, at most ATTACHMENT_MAX_BYTES."""
    name = attachment_filename(filename)
    content_type = content_type_for(name)
    if not data:
        raise MessageRefused("attach", f"{name}: the file is empty")
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise MessageRefused("attach", f"{name}: {too_large(len(data))}")
    _, magic = ALLOWED_TYPES[PurePath(name).suffix.lower()]
    if magic and not data.startswith(magic):
        raise MessageRefused(
            "attach", f"{name}: the file's content is not {content_type}, as its name says"
        )
    if content_type == "text/plain":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise MessageRefused("attach", f"{name}: a .txt file must be UTF-8 text") from None
    return Attachment(name, content_type, data)


def too_large(size: int) -> str:
    mib = ATTACHMENT_MAX_BYTES // (1024 * 1024)
    return f"the file is {size / (1024 * 1024):.1f} MiB; an attachment may be at most {mib} MiB"


def choose_topic(text: str, topics: tuple[str, ...]) -> str:
    """The office's topic the patient picked, spelled as the office lists it."""
    wanted = text.strip().casefold()
    for topic in topics:
        if topic.casefold() == wanted:
            return topic
    raise MessageRefused("topic", "choose one of the topics offered: " + ", ".join(topics))


def check_attachment_count(count: int) -> None:
    if count > MAX_ATTACHMENTS:
        raise MessageRefused(
            "attach", f"at most {MAX_ATTACHMENTS} attachments per message (got {count})"
        )
