"""The Book Appointment button: a plain link to the tenant's booking page, no script."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from agent.cli import main
from agent.embed import embed_code, text_colour_for
from tests.agent.config.example_config import EXAMPLE_TEXT


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_snippet_is_one_link_to_the_booking_page() -> None:
    parser = _Collect()
    parser.feed(embed_code("https://clinic.portal.example.com", size="large", colour="#ffcc00"))
    assert [tag for tag, _ in parser.tags] == ["a"]
    attrs = parser.tags[0][1]
    assert attrs["href"] == "https://clinic.portal.example.com/book"
    assert "background:#ffcc00" in (attrs["style"] or "")
    assert "color:#000000" in (attrs["style"] or "")  # dark text on a light button
    assert "font:600 21px" in (attrs["style"] or "")


def test_text_colour_keeps_contrast() -> None:
    assert text_colour_for("#000080") == "#ffffff"
    assert text_colour_for("#ffffff") == "#000000"


@pytest.mark.parametrize(
    ("size", "colour"),
    [("huge", "#123456"), ("small", "red"), ("small", "#12345"), ("small", '#123456"><script')],
)
def test_bad_options_are_refused(size: str, colour: str) -> None:
    with pytest.raises(ValueError):
        embed_code("https://x.example.com", size=size, colour=colour)


def test_cli_prints_the_snippet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(EXAMPLE_TEXT)
    assert (
        main(["embed-code", "--config", str(config), "--size", "small", "--color", "#1a5fb4"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith('<a href="https://example-clinic.portal.example.com/book"')
    assert "<script" not in out
    assert main(["embed-code", "--config", str(config), "--color", "blue"]) == 1
