"""The commented example an admin copies must validate, once its placeholder pin is replaced
(its only problem: tests/agent/config/test_fix_placeholder_pin.py), and mention every setting."""

from __future__ import annotations

import yaml
from pydantic import BaseModel

from agent.config import AgentConfig, config_warnings, parse_config
from agent.config_report import read_yaml
from tests.agent.config.example_config import EXAMPLE, EXAMPLE_TEXT

# Alternatives that cannot be set together with the example's choice appear commented out.
COMMENTED_OUT = {"database.password", "link.portal"}


def test_the_example_validates() -> None:
    config = parse_config(EXAMPLE_TEXT)

    assert config.practice.name == "Example Family Clinic"
    assert config.practice.subdomain == "example-clinic"
    assert config.listen.port == 1234
    assert config.database.name == "practice"
    assert config.email.mode == "folder"
    assert config.portal.url == "https://example-clinic.portal.example.com"


def test_the_example_only_warns_about_key_files_not_created_yet() -> None:
    warnings = config_warnings(parse_config(EXAMPLE_TEXT))

    assert {w.path for w in warnings} <= {"tls.key_file", "tls.cert_file"}


def _field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, info in model.model_fields.items():
        paths.append(prefix + name)
        candidates = [info.annotation, *getattr(info.annotation, "__args__", ())]
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths += _field_paths(candidate, f"{prefix}{name}.")
    return paths


def test_the_example_shows_every_setting_the_agent_accepts() -> None:
    text = EXAMPLE.read_text()
    present = set(read_yaml(text).lines)

    missing = [
        path
        for path in _field_paths(AgentConfig)
        if path not in present
        and not (path in COMMENTED_OUT and f"# {path.rsplit('.', 1)[-1]}:" in text)
    ]
    assert missing == []


def test_every_setting_in_the_example_has_a_comment_above_it() -> None:
    text = EXAMPLE.read_text()
    lines = text.splitlines()
    uncommented = [
        path
        for path, line in read_yaml(text).lines.items()
        if not path.rsplit(".", 1)[-1].isdigit() and not lines[line - 2].lstrip().startswith("#")
    ]
    assert uncommented == []


def test_the_example_is_plain_yaml_with_no_duplicate_keys() -> None:
    assert read_yaml(EXAMPLE.read_text()).problems == []
    assert isinstance(yaml.safe_load(EXAMPLE.read_text()), dict)
