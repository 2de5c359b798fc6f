"""The layout rules of issue 12 that a linter does not check.

- No import cycle between modules of protocol/, agent/ or proxy/ (the import-linter contracts
  in .importlinter, run by `make lint`, also forbid cycles between packages at every depth).
- No module over ~400 lines unless its docstring says why ("Longer than ~400 lines on purpose:
  ..."): a long file is a room doing too much until someone explains otherwise.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "agent", "proxy")
MAX_LINES = 400
REASON = "Longer than ~400 lines on purpose:"


def import_cycles(imports: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in imports.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return cycles


def test_the_cycle_finder_finds_a_cycle_and_nothing_else() -> None:
    imports = {"a.x": ["a.y"], "a.y": ["a.z"], "a.z": ["a.x"], "b": ["a.x"], "c": []}
    assert import_cycles(imports) == [["a.x", "a.y", "a.z"]]
    assert import_cycles({"a": ["b"], "b": ["c"]}) == []


def test_no_module_of_the_project_takes_part_in_an_import_cycle() -> None:
    """TYPE_CHECKING imports count: a cycle hidden behind one is still two modules that
    cannot be understood (or moved) one without the other."""
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    assert len(imports) > 100  # the graph really holds the project
    assert import_cycles(imports) == []


def test_the_protocol_package_itself_imports_only_the_link() -> None:
    """.importlinter's link-core contract names the core's modules; `protocol/__init__.py`
    cannot be among them (as a package it contains the service kit), so it is checked here:
    importing `protocol` must not pull in the service kit or what the kit needs."""
    graph = grimp.build_graph("protocol", include_external_packages=True)
    imported = graph.find_modules_directly_imported_by("protocol")
    assert "protocol.errors" in imported  # the graph really holds the package's imports
    forbidden = ("protocol.service", "pydantic", "yaml", "aiohttp", "prometheus_client")
    assert (
        sorted(
            module
            for module in imported
            if any(module == name or module.startswith(f"{name}.") for name in forbidden)
        )
        == []
    )


def _python_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _python_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_is_over_400_lines_without_a_reason(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count("\n") <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert REASON in " ".join(docstring.split()), (
        f"{path.relative_to(ROOT)} has {text.count(chr(10))} lines and its docstring does not "
        f"say why ({REASON!r})"
    )
