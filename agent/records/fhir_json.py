"""The FHIR download as JSON text, with decimals written digit for digit.

FHIR says a decimal's precision is significant: a potassium of `5.40` claims a digit that
`5.4` does not. The bundle holds such values as `decimal.Decimal`, and this writer puts them
in the JSON as numbers spelled exactly as the lab wrote them. The standard library's encoder
has no way to do that (it writes floats in their shortest form and refuses Decimal), and the
bundle holds only dicts, lists, strings, numbers, booleans and null, so a short writer here
earns its place more than a dependency for one call would.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

INDENT = "  "


def bundle_json(value: Any) -> str:
    """`value` as indented JSON (2 spaces, like the download always was), UTF-8 kept as is."""
    return "".join(_chunks(value, "\n"))


def decimal_text(number: Decimal) -> str:
    """A finite Decimal as a JSON number: "5.40" stays "5.40", "1E-21" is valid JSON too."""
    if not number.is_finite():
        raise ValueError("a FHIR decimal must be finite")
    # str() never writes a leading "+" or a bare "." (which JSON refuses); its exponent
    # form ("1E-21", "1E+3") is a valid JSON number.
    return str(number)


def _chunks(value: Any, newline: str) -> Any:
    if isinstance(value, Decimal):
        yield decimal_text(value)
    elif isinstance(value, dict):
        if not value:
            yield "{}"
            return
        inner = newline + INDENT
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ("," if index else "") + inner + json.dumps(str(key), ensure_ascii=False) + ": "
            yield from _chunks(item, inner)
        yield newline + "}"
    elif isinstance(value, list | tuple):
        if not value:
            yield "[]"
            return
        inner = newline + INDENT
        yield "["
        for index, item in enumerate(value):
            yield ("," if index else "") + inner
            yield from _chunks(item, inner)
        yield newline + "]"
    else:
        # Strings, ints, floats, booleans and None: the standard encoder's own spelling.
        yield json.dumps(value, ensure_ascii=False, allow_nan=False)
