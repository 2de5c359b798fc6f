"""`portico-agent embed-code`: the "Book Appointment" button for the office's own web site
(seed 002). A plain styled link — no script, nothing loaded from anywhere else."""

from __future__ import annotations

import html
import re

SIZES = {
    "small": ("14px", "8px 14px"),
    "medium": ("17px", "11px 20px"),
    "large": ("21px", "14px 28px"),
}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def text_colour_for(background: str) -> str:
    """Black or white, whichever reads better on the button (WCAG relative luminance)."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    contrast_white = 1.05 / (luminance + 0.05)
    contrast_black = (luminance + 0.05) / 0.05
    return "#ffffff" if contrast_white >= contrast_black else "#000000"


def embed_code(portal_url: str, *, size: str, colour: str, label: str = "Book Appointment") -> str:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    if not _COLOUR.match(colour):
        raise ValueError("color must look like #1a73e8")
    font, padding = SIZES[size]
    style = (
        f"display:inline-block;background:{colour};color:{text_colour_for(colour)};"
        f"font:600 {font}/1.2 system-ui,sans-serif;padding:{padding};border-radius:6px;"
        "text-decoration:none"
    )
    href = html.escape(portal_url.rstrip("/") + "/book", quote=True)
    return (
        f'<a href="{href}" style="{style}" rel="noopener" target="_blank">{html.escape(label)}</a>'
    )
