"""Text a patient typed, made harmless before it reaches a staff member's terminal.

A terminal obeys what it is sent: ESC and the C1 controls (U+009B is a one-character CSI)
move the cursor, clear the screen or retitle the window, a carriage return lets a line
overwrite what came before it, and Unicode's bidirectional and other format characters
(category Cf: U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 isolates, zero-width spaces) reorder or hide
what follows. Patients never mean any of that, so the staff commands show such characters as
visible escapes (``\\x1b``, ``\\u202e``) and the forms refuse them in sent answers.
"""

from __future__ import annotations

import unicodedata

# Control (Cc), format (Cf) and lone surrogate (Cs: never valid text, and unprintable in
# UTF-8) characters.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# Format characters that ordinary keyboards type inside words: ZERO WIDTH NON-JOINER is a key on
# the Persian keyboard and shapes Indic scripts, ZERO WIDTH JOINER builds emoji such as the
# family ones. Neither moves the cursor nor reorders text, so both are plain text here.
WORD_JOINERS = frozenset("\u200c\u200d")


def is_hidden(char: str) -> bool:
    """Whether `char` acts on a terminal or the text around it instead of showing itself."""
    return unicodedata.category(char) in _HIDDEN_CATEGORIES and char not in WORD_JOINERS


def has_hidden(text: str, *, allowed: str = "") -> bool:
    """Whether `text` holds a hidden character other than those in `allowed` (like "\\n\\t")."""
    if text.isprintable():  # the usual case, at C speed: no C* character at all
        return False
    return any(is_hidden(char) and char not in allowed for char in text)


def escaped(char: str) -> str:
    """How a hidden character is shown: Python's escape for it, as plain ASCII."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_safe(text: str, *, one_line: bool) -> str:
    """`text` with every hidden character shown as its escape instead of acting: ``ESC[2J``
    prints as ``\\x1b[2J``, a bare carriage return as ``\\x0d``. Line breaks and tabs stay in
    running text (a message body, a long answer); in one-line cells they are escaped too."""
    text = text.replace("\r\n", "\n")
    if text.isprintable():
        return text
    kept = "" if one_line else "\n\t"
    return "".join(escaped(c) if is_hidden(c) and c not in kept else c for c in text)
