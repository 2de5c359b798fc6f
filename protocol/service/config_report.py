"""Turning a YAML config file's mistakes into problems an admin can act on.

Shared by the agent's ``agent.yaml`` and the proxy's ``proxy.yaml``: both are one YAML file
validated by a pydantic model, and both must report every problem at once, each with its dotted
key path and line. Two jobs, both about *where* and *what*, never about the values themselves:

- read the YAML into plain data plus a map from each dotted key path to the line it is on
  (``yaml.compose`` keeps the node marks that ``safe_load`` throws away);
- translate pydantic's errors into plain English with that path and line.

Secrets: nothing here echoes a value under a key that looks like it holds a password, and YAML
syntax errors are reported without PyYAML's source snippet, since the broken line may be the one
holding the password.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

# No stubs for PyYAML in the environment; its few calls here are checked by the tests.
import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

__all__ = [
    "YAML_LINES",
    "ConfigInvalid",
    "ConfigProblem",
    "YamlDocument",
    "describe_validation",
    "dotted",
    "line_of",
    "parse_yaml_model",
    "read_yaml",
    "with_lines",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

YAML_LINES = "yaml_lines"
"""Key of the validation context under which :func:`parse_yaml_model` passes the file's
dotted-path -> line map to the model's validators."""

# A path whose any part contains one of these never has its value shown.
_SECRET_FRAGMENTS = ("password", "secret", "token")
_SHOWN_MAX = 60
_SECTION_TYPES = ("model_type", "dict_type", "model_attributes_type")
# pydantic's last location part for an error in a mapping's *key* rather than its value.
_KEY_LOC = "[key]"
# PyYAML speaks in parser terms; what an admin editing by hand most likely did instead.
_YAML_HINTS = (
    ("'\\t'", "; indent with spaces, not tabs"),
    ("block end", "; check this line's indentation"),
    ("block mapping", "; check this line's indentation"),
    ("mapping values are not allowed", "; put a value that contains ': ' in quotes"),
)


class ConfigProblem(NamedTuple):
    """One thing wrong (or worth a warning) in a config file."""

    path: str
    """Dotted key path, e.g. ``booking.round_to_minutes``; list items by index, as in
    ``listen.allowed_proxies.0``; empty for the file as a whole."""
    line: int | None
    """1-based line of the key in the file, when known."""
    message: str
    """What is wrong and, where it helps, how to fix it. Never contains a secret."""

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where = f"{where} (line {self.line})" if where else f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message


class ConfigInvalid(Exception):
    """The config file cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        count = len(problems)
        summary = "; ".join(str(p) for p in problems)
        super().__init__(f"{count} problem{'' if count == 1 else 's'} in the config: {summary}")


@dataclass
class YamlDocument:
    """A parsed config file: its data, where each key is, and problems found while reading."""

    data: Any = None
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)
    readable: bool = True
    """False when the data is unusable (syntax error, empty, not a mapping)."""


def dotted(loc: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def read_yaml(
    text: str, *, example: str | None = None, sections: str | None = None
) -> YamlDocument:
    """Parse ``text``. ``example`` (a path such as ``config/agent.example.yaml``) and
    ``sections`` (such as ``practice:, listen:, ...``) only make the messages for an empty or
    shapeless file more helpful."""
    doc = YamlDocument()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        doc.data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        # problem/context only: str(exc) would quote the offending source line.
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "unreadable"
        line = mark.line + 1 if mark is not None else None
        if exc.problem and exc.context and exc.context_mark is not None:
            start = exc.context_mark.line + 1
            where = f" (started on line {start})" if start != line else ""
            what = f"{exc.problem} {exc.context}{where}"
        hint = next((h for cause, h in _YAML_HINTS if cause in what), "")
        doc.problems.append(ConfigProblem("", line, f"not valid YAML: {what}{hint}"))
        doc.readable = False
        return doc
    except yaml.YAMLError:
        doc.problems.append(ConfigProblem("", None, "not valid YAML"))
        doc.readable = False
        return doc
    if root is None or doc.data is None:
        start = f"; start from {example}" if example else ""
        doc.problems.append(ConfigProblem("", None, f"the file is empty{start}"))
        doc.readable = False
        return doc
    if not isinstance(root, yaml.MappingNode) or not isinstance(doc.data, dict):
        doc.problems.append(
            ConfigProblem(
                "",
                root.start_mark.line + 1,
                f"the file must be a set of sections ({sections or 'key: value lines'}), "
                f"not {_kind(doc.data)}",
            )
        )
        doc.readable = False
        return doc
    _walk(root, (), doc)
    return doc


def _walk(node: Any, path: tuple[str, ...], doc: YamlDocument) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key_path = (*path, str(key_node.value))
            name, line = dotted(key_path), key_node.start_mark.line + 1
            if name in doc.lines:
                # PyYAML silently keeps the last one; an admin editing the first would be puzzled.
                doc.problems.append(
                    ConfigProblem(
                        name, line, f"appears twice (also on line {doc.lines[name]}); keep one"
                    )
                )
            else:
                doc.lines[name] = line
            _walk(value_node, key_path, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            item_path = (*path, str(index))
            doc.lines.setdefault(dotted(item_path), item.start_mark.line + 1)
            _walk(item, item_path, doc)


def line_of(lines: Mapping[str, int], loc: tuple[str | int, ...]) -> int | None:
    """The line of ``loc``'s key, else of its nearest ancestor in the file (e.g. a missing key's
    section); None at the top level."""
    parts = [str(p) for p in loc]
    while parts:
        found = lines.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None


def with_lines(problems: Iterable[ConfigProblem], text: str) -> list[ConfigProblem]:
    """``problems`` with lines filled in from the file's text (for warnings found on a model)."""
    lines = read_yaml(text).lines
    return [
        p if p.line is not None else p._replace(line=line_of(lines, tuple(p.path.split("."))))
        for p in problems
    ]


def parse_yaml_model(
    raw: bytes | str,
    model: type[ModelT],
    *,
    example: str | None = None,
    sections: str | None = None,
) -> ModelT:
    """Validate a config file's content against ``model``.

    Raises :class:`ConfigInvalid` listing every problem (YAML syntax, duplicate keys and all of
    the model's errors), sorted by line. ``example`` and ``sections`` as for :func:`read_yaml`."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            problem = f"the file is not UTF-8 text (bad byte at offset {exc.start}); save as UTF-8"
            raise ConfigInvalid([ConfigProblem("", None, problem)]) from None
    doc = read_yaml(raw, example=example, sections=sections)
    if not doc.readable:
        raise ConfigInvalid(doc.problems)
    problems = list(doc.problems)
    config = None
    try:
        # Validators that compare entries (e.g. two keys differing only in case) can point
        # at the other entry's line through the context.
        config = model.model_validate(doc.data, context={YAML_LINES: doc.lines})
    except ValidationError as exc:
        problems += describe_validation(exc, model, doc.lines)
    if problems or config is None:
        problems.sort(key=lambda p: (p.line is not None, p.line or 0))
        raise ConfigInvalid(problems)
    return config


def describe_validation(
    exc: ValidationError, root: type[BaseModel], lines: Mapping[str, int]
) -> list[ConfigProblem]:
    errors = exc.errors(include_url=False)
    item_errors = {
        tuple(e["loc"][:-1]) for e in errors if e["loc"] and isinstance(e["loc"][-1], int)
    }
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "too_short" and loc in item_errors:
            continue  # a list whose only entries are wrong: the entries' errors say it all
        if loc and loc[-1] == _KEY_LOC:
            loc = loc[:-1]  # a bad mapping key is reported at the key itself, where it is written
        if error["type"] == "conflict":
            # A cross-field check names the field to blame; the model can only report itself.
            loc = (*loc, str(error.get("ctx", {}).get("field", "")))
        problems.append(ConfigProblem(dotted(loc), line_of(lines, loc), _message(error, root)))
    return problems


def _message(error: ErrorDetails, root: type[BaseModel]) -> str:
    kind, ctx, loc = error["type"], error.get("ctx", {}), tuple(error["loc"])
    value = error.get("input")
    secret = any(f in str(part).lower() for part in loc for f in _SECRET_FRAGMENTS)
    got = "" if secret else f" (got {_shown(value)})"
    if kind == "missing":
        section = _is_section(root, loc)
        return f"required; add this {'section' if section else 'setting'}"
    if value is None and kind.endswith("_type") and kind not in _SECTION_TYPES:
        return "is empty; give it a value"
    if kind in ("extra_forbidden", "invalid_key"):
        hint = difflib.get_close_matches(str(loc[-1]), _field_names(root, loc[:-1]), n=1)
        return "unknown key" + (f"; did you mean {hint[0]}?" if hint else "")
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the listed values')}{got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number{got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false{got}"
    if kind == "string_type":
        quote = "; put it in quotes" if isinstance(value, int | float) else ""
        return f"must be text{quote}{'' if secret else f' (got {_kind(value)})'}"
    if kind in _SECTION_TYPES:
        if value is None:
            return "is empty; it must contain this section's settings, indented below it"
        return f"must be a section of settings (key: value lines), not {_kind(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list (one '- item' line per entry), not {_kind(value)}"
    if kind == "path_type":
        return f"must be a file path{got}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}{got}"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"must be at least {ctx.get('min_length')} characters long"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "too_short":
        count = ctx.get("min_length")
        return f"must list at least {count} {'entry' if count == 1 else 'entries'}"
    if kind == "too_long":
        return f"must list at most {ctx.get('max_length')} entries"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return str(error["msg"])


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 3] + "..."
        return f'"{text}"'
    return _kind(value)


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a section"
    return "a " + type(value).__name__


def _annotation_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> Any:
    """The type annotation of the setting at ``loc``, or None when there is no such setting."""
    current: Any = root
    for part in loc:
        model = _as_model(current)
        if model is not None:
            info = model.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        else:
            # In a mapping of sections (e.g. the proxy's tenants), `part` is an entry's key.
            current = _mapping_value(current)
            if current is None:
                return None
    return current


def _model_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    return _as_model(_annotation_at(root, loc))


def _as_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model = _as_model(arg)
            if model is not None:
                return model
    return None


def _mapping_value(annotation: Any) -> Any:
    """The value type of a ``dict[K, V]`` annotation (also inside ``| None``), else None."""
    origin = typing.get_origin(annotation)
    if origin in (dict, Mapping):
        return typing.get_args(annotation)[1]
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            value = _mapping_value(arg)
            if value is not None:
                return value
    return None


def _field_names(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    model = _model_at(root, loc)
    return list(model.model_fields) if model is not None else []


def _is_section(root: type[BaseModel], loc: tuple[str | int, ...]) -> bool:
    annotation = _annotation_at(root, loc)
    return _as_model(annotation) is not None or _mapping_value(annotation) is not None
