"""Issue 11: "install.md says to delete the admin config in step 5 and uses it in step 11."

Office IT follow docs/install.md's shell blocks in order. Every file a `portico-agent` command
is pointed at with `--config` must have been made by an earlier block (`cp`, `install`,
`printf ... >`) and not removed (`rm`) since. Step numbers come from the headings, so a
failure says which step uses what.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

INSTALL = Path(__file__).parents[1] / "docs" / "install.md"
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_STEP = re.compile(r"^## (\d+)\. ", re.MULTILINE)


def commands() -> list[tuple[str, list[str]]]:
    """(step number, words) for each shell command, in the order of the document."""
    text = INSTALL.read_text()
    found = []
    for block in _BLOCK.finditer(text):
        steps = _STEP.findall(text, 0, block.start())
        step = steps[-1] if steps else "?"
        for line in block[1].splitlines():
            line = line.split("  #")[0].strip()
            for part in re.split(r"&&|;", line):
                if part.strip():
                    found.append((step, shlex.split(part, comments=True)))
    return found


def test_every_config_a_step_uses_exists_at_that_step() -> None:
    existing: set[str] = set()
    problems = []
    for step, words in commands():
        if not words:
            continue
        if words[0] in ("cp", "install") and len(words) >= 3:
            existing.add(words[-1])
        if words[0] == "rm":
            existing -= set(words[1:])
        if ">" in words:
            existing.add(words[words.index(">") + 1])
        if words[0].endswith("portico-agent") and "--config" in words:
            config = words[words.index("--config") + 1]
            if config not in existing:
                problems.append(f"step {step}: {' '.join(words)} (no {config} at that point)")

    assert problems == []
