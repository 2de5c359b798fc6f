"""link: who opens the link. listen (the default, as before) needs listen:; dial_out needs
link.portal and refuses a listen: section, since the agent then opens no port (issue 15)."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, ConfigProblem, parse_config
from agent.config_values import split_endpoint
from tests.agent.config.example_config import EXAMPLE_TEXT

MODE = "  mode: listen\n"
PORTAL_COMMENT = '  # portal: ["links.portal.example.com:4443"]\n'


def _listen_section_removed(text: str) -> str:
    start = text.index("\nlisten:\n") + 1
    end = text.index("\n# --- Encryption", start) + 1
    return text[:start] + text[end:]


def dial_out(*endpoints: str, keep_listen: bool = False) -> str:
    assert EXAMPLE_TEXT.count(MODE) == 1 and EXAMPLE_TEXT.count(PORTAL_COMMENT) == 1
    portal = ", ".join(f'"{e}"' for e in endpoints)
    text = EXAMPLE_TEXT.replace(MODE, "  mode: dial_out\n").replace(
        PORTAL_COMMENT, f"  portal: [{portal}]\n"
    )
    return text if keep_listen else _listen_section_removed(text)


def problems(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)
    return caught.value.problems


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(fragment))


def test_the_default_is_listen_mode_so_existing_files_keep_working() -> None:
    head, _, rest = EXAMPLE_TEXT.partition("link:\n")
    without_link = head + rest.split("\n\n", 1)[1]

    config = parse_config(without_link)

    assert config.link.mode == "listen" and config.link.portal is None
    assert config.listening.port == 1234


def test_dial_out_needs_no_listen_section_and_keeps_its_endpoints() -> None:
    config = parse_config(dial_out("links.portal.example.com:4443", "203.0.113.9:443"))

    assert config.link.mode == "dial_out"
    assert config.link.portal == ("links.portal.example.com:4443", "203.0.113.9:443")
    assert config.listen is None
    assert (config.link.links_per_address, config.link.backoff_cap_seconds) == (1, 30)


def test_a_listen_section_in_dial_out_mode_is_refused_with_what_to_do() -> None:
    text = dial_out("links.portal.example.com:4443", keep_listen=True)

    [problem] = problems(text)

    assert problem.path == "listen"
    assert problem.line == line_of(text, "listen:")
    assert "the agent then opens no port" in problem.message
    assert "delete the listen: section" in problem.message


def test_listen_mode_without_a_listen_section_says_what_to_add() -> None:
    [problem] = problems(_listen_section_removed(EXAMPLE_TEXT))

    assert problem.path == "listen"
    assert problem.message.startswith("required when link.mode is listen (the default)")
    assert "link.mode: dial_out" in problem.message


def test_dial_out_without_an_endpoint_is_refused() -> None:
    text = _listen_section_removed(EXAMPLE_TEXT.replace(MODE, "  mode: dial_out\n"))

    [problem] = problems(text)

    assert problem.path == "link.portal"
    assert problem.line == line_of(text, "link:")
    assert problem.message.startswith("required when mode is dial_out")


def test_an_empty_endpoint_list_is_refused() -> None:
    [problem] = problems(dial_out())

    assert (problem.path, problem.message) == ("link.portal", "must list at least 1 entry")


def test_endpoints_in_listen_mode_are_refused() -> None:
    text = EXAMPLE_TEXT.replace(PORTAL_COMMENT, '  portal: ["links.portal.example.com:4443"]\n')

    [problem] = problems(text)

    assert problem.path == "link.portal"
    assert problem.line == line_of(text, "  portal: [")
    assert problem.message.startswith("only used when mode is dial_out")


def test_an_unknown_mode_is_refused() -> None:
    [problem] = problems(EXAMPLE_TEXT.replace(MODE, "  mode: dial-out\n"))

    assert problem.path == "link.mode"
    assert problem.message == "must be 'listen' or 'dial_out' (got \"dial-out\")"


@pytest.mark.parametrize(
    ("endpoint", "stored"),
    [
        ("links.portal.example.com:4443", "links.portal.example.com:4443"),
        ("Links.Portal.Example.COM:443", "links.portal.example.com:443"),
        ("203.0.113.9:4443", "203.0.113.9:4443"),
        ("[2001:DB8::7]:4443", "[2001:db8::7]:4443"),
        ("localhost:1", "localhost:1"),
    ],
)
def test_endpoints_are_names_or_addresses_with_a_port(endpoint: str, stored: str) -> None:
    config = parse_config(dial_out(endpoint))

    assert config.link.portal == (stored,)
    host, port = split_endpoint(stored)
    assert f"[{host}]:{port}" if ":" in host else f"{host}:{port}" == stored


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("links.portal.example.com", '"links.portal.example.com" has no port; add the one'),
        ("links.portal.example.com:0", "the port must be a number from 1 to 65535"),
        ("links.portal.example.com:70000", "the port must be a number from 1 to 65535"),
        ("links.portal.example.com:https", "the port must be a number from 1 to 65535"),
        ("2001:db8::7:4443", "put an IPv6 address in brackets, like [2001:db8::7]:4443"),
        ("[2001:db8::7]", "write an IPv6 endpoint as [address]:port"),
        ("[203.0.113.9]:443", "[203.0.113.9] is not an IPv6 address"),
        ("https://links.portal.example.com:4443", "write only the host and port, like links"),
        ("links_portal.example.com:4443", "is neither a host name nor an IP address"),
        (":4443", "is neither a host name nor an IP address"),
        ("300.1.2.3:4443", '"300.1.2.3" is not an IPv4 address'),
        ("", "must not be empty; write the endpoint like links.portal.example.com:4443"),
    ],
)
def test_a_bad_endpoint_is_reported_at_its_position_in_words(endpoint: str, message: str) -> None:
    text = dial_out("links.portal.example.com:4443", endpoint)

    [problem] = problems(text)

    assert problem.path == "link.portal.1"
    assert problem.line == line_of(text, "  portal: [")
    assert message in problem.message


def test_an_endpoint_listed_twice_is_refused() -> None:
    [problem] = problems(dial_out("links.portal.example.com:4443", "LINKS.portal.example.com:4443"))

    assert problem.path == "link.portal"
    assert problem.message == (
        '"links.portal.example.com:4443" is listed twice; list each endpoint once'
    )


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("links_per_address", "0", "must be at least 1 (got 0)"),
        ("links_per_address", "9", "must be at most 8 (got 9)"),
        ("links_per_address", "true", "must be a whole number"),
        ("backoff_cap_seconds", "0", "must be at least 1 (got 0)"),
        ("backoff_cap_seconds", "301", "must be at most 300 (got 301)"),
    ],
)
def test_link_numbers_have_limits(setting: str, value: str, message: str) -> None:
    default = {"links_per_address": "1", "backoff_cap_seconds": "30"}[setting]
    text = dial_out("links.portal.example.com:4443").replace(
        f"  {setting}: {default}\n", f"  {setting}: {value}\n"
    )

    [problem] = problems(text)

    assert problem.path == f"link.{setting}"
    assert problem.line == line_of(text, f"  {setting}:")
    assert problem.message.startswith(message)
