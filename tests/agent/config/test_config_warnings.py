"""Settings that are allowed but defeat each other are warnings, not errors (seed 002)."""

from __future__ import annotations

from pathlib import Path

from agent.config import config_warnings, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT

CUTOFF_VS_FEE = (
    "these cancel each other out; patients could not cancel online inside the fee window "
    "and no fee would be assessed automatically"
)


def booking_warnings(**settings: object) -> list[tuple[str, str]]:
    text = EXAMPLE_TEXT
    for key, value in settings.items():
        lines = [line for line in text.splitlines() if line.startswith(f"  {key}:")]
        assert len(lines) == 1, key
        text = text.replace(lines[0], f"  {key}: {value}")
    config = parse_config(text)
    return [(w.path, w.message) for w in config_warnings(config) if w.path.startswith("booking.")]


def test_cutoff_equal_to_the_fee_window_is_warned_about() -> None:
    assert booking_warnings(cancel_cutoff_hours=24, late_cancel_fee_hours=24) == [
        ("booking.cancel_cutoff_hours", CUTOFF_VS_FEE)
    ]


def test_cutoff_longer_than_the_fee_window_is_warned_about() -> None:
    assert booking_warnings(cancel_cutoff_hours=48, late_cancel_fee_hours=24) == [
        ("booking.cancel_cutoff_hours", CUTOFF_VS_FEE)
    ]


def test_cutoff_inside_the_fee_window_is_the_advised_setting() -> None:
    assert booking_warnings(cancel_cutoff_hours=12, late_cancel_fee_hours=24) == []


def test_no_fee_window_means_nothing_to_cancel_out() -> None:
    assert booking_warnings(cancel_cutoff_hours=24, late_cancel_fee_hours="null") == []


def test_cancel_settings_have_no_effect_when_patients_cannot_cancel_online() -> None:
    warnings = booking_warnings(
        allow_cancel_reschedule="false", cancel_cutoff_hours=24, late_cancel_fee_hours=48
    )

    assert warnings == [
        ("booking.cancel_cutoff_hours", "has no effect while allow_cancel_reschedule is false"),
        ("booking.late_cancel_fee_hours", "has no effect while allow_cancel_reschedule is false"),
    ]


def test_defaults_left_out_of_the_file_are_not_warned_about() -> None:
    text = "\n".join(
        line
        for line in EXAMPLE_TEXT.splitlines()
        if not line.startswith(("  cancel_cutoff_hours:", "  late_cancel_fee_hours:"))
    ).replace("allow_cancel_reschedule: true", "allow_cancel_reschedule: false")

    assert [w for w in config_warnings(parse_config(text)) if w.path.startswith("booking.")] == []


def test_missing_key_files_are_a_warning_that_names_the_command_creating_them(
    tmp_path: Path,
) -> None:
    text = EXAMPLE_TEXT.replace("/etc/portico/tls/", f"{tmp_path}/tls/")

    warnings = {w.path: w.message for w in config_warnings(parse_config(text))}

    assert set(warnings) == {"tls.key_file", "tls.cert_file"}
    assert f"portico-agent init-keys {tmp_path}/tls" in warnings["tls.key_file"]


def test_existing_key_files_are_not_warned_about(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "key.pem").write_text("key")
    (tmp_path / "tls" / "cert.pem").write_text("cert")
    text = EXAMPLE_TEXT.replace("/etc/portico/tls/", f"{tmp_path}/tls/")

    assert config_warnings(parse_config(text)) == []
