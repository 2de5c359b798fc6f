"""The pure checks on what a message may hold (agent.messages.rules)."""

from __future__ import annotations

import pytest

from agent.messages.rules import (
    ATTACHMENT_MAX_BYTES,
    MessageRefused,
    check_attachment,
    check_attachment_count,
    clean_author,
    clean_body,
    clean_subject,
)

PDF = b"%PDF-1.7\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


def refusal(fn: object, *args: object) -> MessageRefused:
    with pytest.raises(MessageRefused) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value


def test_body_keeps_what_was_typed_inside_and_trims_only_the_edges() -> None:
    typed = "  \n<b>Hi</b> & 'quotes'\n\n  Nguyễn 👋\t\r\n  "
    assert clean_body(typed) == "<b>Hi</b> & 'quotes'\n\n  Nguyễn 👋"


def test_body_of_5000_characters_after_trimming_is_accepted() -> None:
    assert len(clean_body("  " + "é" * 5000 + "\n")) == 5000


def test_body_longer_than_5000_characters_is_refused_with_its_length() -> None:
    refused = refusal(clean_body, "x" * 5001)
    assert str(refused) == "body: at most 5,000 characters (this one has 5,001)"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t\r\n", "\u3000"])
def test_blank_body_is_refused(blank: str) -> None:
    assert str(refusal(clean_body, blank)) == "body: please write a message"


def test_body_with_a_lone_surrogate_is_refused_without_quoting_it() -> None:
    refused = refusal(clean_body, "secret \ud800 text")
    assert str(refused) == "body: contains characters that are not valid text"


def test_subject_must_be_one_line_of_at_most_200_characters() -> None:
    assert clean_subject("  Your lab results  ") == "Your lab results"
    assert clean_subject("s" * 200) == "s" * 200
    assert "at most 200" in str(refusal(clean_subject, "s" * 201))
    assert "one line" in str(refusal(clean_subject, "two\nlines"))
    assert "one line" in str(refusal(clean_subject, "bell\x07"))
    assert "subject" in str(refusal(clean_subject, " "))


def test_author_is_one_short_line() -> None:
    assert clean_author(" Dr. Adams ") == "Dr. Adams"
    assert "at most 100" in str(refusal(clean_author, "a" * 101))
    assert "one line" in str(refusal(clean_author, "Dr.\x1b[2J Adams"))


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("results.pdf", PDF, "application/pdf"),
        ("x-ray.PNG", PNG, "image/png"),
        ("rash.jpg", JPEG, "image/jpeg"),
        ("rash.jpeg", JPEG, "image/jpeg"),
        ("instructions.txt", "Take 2 a day. ½ tablet.".encode(), "text/plain"),
    ],
)
def test_allowed_types_are_accepted_with_their_content_type(
    name: str, data: bytes, content_type: str
) -> None:
    attachment = check_attachment(name, data)
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        name,
        content_type,
        len(data),
    )


@pytest.mark.parametrize("name", ["letter.docx", "run.exe", "page.html", "image.svg", "noext"])
def test_other_types_are_refused_by_extension(name: str) -> None:
    refused = refusal(check_attachment, name, PDF)
    assert "only pdf, png, jpg, jpeg or txt files can be attached" in str(refused)


@pytest.mark.parametrize(
    ("name", "data"),
    [("fake.pdf", b"<html><script>"), ("fake.png", PDF), ("fake.jpg", PNG)],
)
def test_content_that_does_not_match_its_name_is_refused(name: str, data: bytes) -> None:
    assert "content is not" in str(refusal(check_attachment, name, data))


def test_txt_must_be_utf8() -> None:
    assert "UTF-8" in str(refusal(check_attachment, "notes.txt", b"\xff\xfe\x00bad"))


def test_empty_file_is_refused() -> None:
    assert "empty" in str(refusal(check_attachment, "empty.txt", b""))


def test_attachment_of_exactly_3_mib_is_accepted_and_one_byte_more_is_refused() -> None:
    exactly = PDF + b"0" * (ATTACHMENT_MAX_BYTES - len(PDF))
    assert check_attachment("big.pdf", exactly).size == ATTACHMENT_MAX_BYTES
    refused = refusal(check_attachment, "big.pdf", exactly + b"0")
    assert "at most 3 MiB" in str(refused)


def test_folders_are_dropped_from_the_file_name() -> None:
    assert check_attachment("/home/staff/scans/result.pdf", PDF).filename == "result.pdf"


def test_file_name_with_control_characters_is_refused() -> None:
    assert "one line" in str(refusal(check_attachment, "a\nb.pdf", PDF))


def test_at_most_five_attachments() -> None:
    check_attachment_count(5)
    assert "at most 5 attachments" in str(refusal(check_attachment_count, 6))
