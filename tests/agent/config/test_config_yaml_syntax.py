"""A file that is not valid YAML, or not shaped like a config, is one clear problem."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, ConfigProblem, parse_config


def problems_of(raw: str | bytes) -> list[ConfigProblem]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(raw)
    return caught.value.problems


def test_a_syntax_error_is_reported_with_its_line() -> None:
    text = "practice:\n  name: Example\n  phone: +1 555 0100\n timezone: America/New_York\n"

    [problem] = problems_of(text)

    assert problem.path == ""
    assert problem.line == 4
    assert problem.message.startswith("not valid YAML: ")
    assert str(problem).startswith("line 4: not valid YAML: ")


def test_an_unclosed_quote_says_where_it_started() -> None:
    text = 'practice:\n  name: "Example\nlisten:\n  port: 1234\n'

    [problem] = problems_of(text)

    assert "started on line 2" in problem.message


def test_a_tab_for_indentation_is_reported_with_its_line() -> None:
    [problem] = problems_of("practice:\n\tname: Example\n")

    assert problem.line == 2


@pytest.mark.parametrize("text", ["", "\n\n", "# only comments\n", "---\n"])
def test_an_empty_file_is_reported(text: str) -> None:
    [problem] = problems_of(text)

    assert "the file is empty" in problem.message


@pytest.mark.parametrize(
    ("text", "kind"), [("- practice\n- listen\n", "a list"), ("just words\n", "text")]
)
def test_a_file_that_is_not_a_set_of_sections_is_reported(text: str, kind: str) -> None:
    [problem] = problems_of(text)

    assert problem.line == 1
    assert problem.message.endswith(f"not {kind}")


def test_a_key_given_twice_is_reported_on_its_second_line() -> None:
    text = "logging:\n  level: info\n  level: debug\n"

    assert ConfigProblem("logging.level", 3, "appears twice (also on line 2); keep one") in (
        problems_of(text)
    )


def test_a_file_that_is_not_utf8_is_reported() -> None:
    [problem] = problems_of("practice:\n  name: Caf\xe9\n".encode("latin-1"))

    assert "not UTF-8" in problem.message


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    problems = problems_of("\ufefflogging:\n  level: info\n".encode())

    assert "practice" in {p.path for p in problems}
    assert all("YAML" not in p.message for p in problems)
