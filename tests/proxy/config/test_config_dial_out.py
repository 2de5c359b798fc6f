"""Dial-out offices in proxy.yaml (issue 15): ``mode: dial_out`` takes no address, needs the
link listener, and owns its pins alone."""

from __future__ import annotations

import pytest

from proxy.config import ConfigInvalid, parse_proxy_config

PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
OTHER_PIN = "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
LISTENER = ', listen: {host: "127.0.0.1", port: 4443}'


def text(*, listener: str = LISTENER, north: str = "", south_pin: str = OTHER_PIN) -> str:
    return f"""\
portal_domain: portal.example.com
behind_tls_proxy: true
link: {{key_file: /k.pem, cert_file: /c.pem{listener}}}
secret_file: /secret
tenants:
  north:
    mode: dial_out
{north}    pins: ["{PIN}"]
    name: North Clinic
    phone: "+1 555 0100"
  south:
    mode: dial_out
    pins: ["{south_pin}"]
    name: South Clinic
    phone: "+1 555 0101"
  east:
    host: east.example-ddns.net
    pins: ["{PIN}"]
    name: East Clinic
    phone: "+1 555 0102"
"""


def problems(source: str) -> dict[str, str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_proxy_config(source)
    return {p.path: p.message for p in caught.value.problems}


def test_dial_out_offices_need_no_address_and_listen_stays_the_default() -> None:
    config = parse_proxy_config(text())

    assert config.link.listen is not None
    assert (config.link.listen.host, config.link.listen.port) == ("127.0.0.1", 4443)
    north, east = config.tenants["north"], config.tenants["east"]
    assert (north.mode, north.dials_in, north.host) == ("dial_out", True, None)
    assert (east.mode, east.dials_in, east.address) == (
        "listen",
        False,
        ("east.example-ddns.net", 1234),
    )
    with pytest.raises(ValueError, match="dial_out office has no address"):
        _ = north.address
    # The listener admits the dial_out offices' pins, not the listen-mode office's own.
    assert config.dial_in_pins() == frozenset({PIN, OTHER_PIN})


def test_the_link_listener_defaults_to_port_4443_and_is_off_unless_given() -> None:
    listener = parse_proxy_config(text(listener=", listen: {}")).link.listen
    assert listener is not None and (listener.host, listener.port) == ("0.0.0.0", 4443)
    listen_offices_only = (
        text(listener="").split("  north:")[0] + "  east:" + text().split("  east:")[1]
    )
    assert parse_proxy_config(listen_offices_only).link.listen is None


def test_a_dial_out_office_with_an_address_is_told_to_remove_it() -> None:
    found = problems(text(north="    host: north.example.com\n    port: 1234\n"))

    message = "a dial_out office's agent connects to the portal; remove host/port"
    assert found == {"tenants.north.host": message, "tenants.north.port": message}


def test_a_listen_office_still_needs_its_host() -> None:
    found = problems(text().replace("    host: east.example-ddns.net\n", ""))

    assert list(found) == ["tenants.east.host"]
    assert "required" in found["tenants.east.host"]


def test_dial_out_offices_need_the_link_listener_and_the_error_names_them() -> None:
    found = problems(text(listener=""))

    assert list(found) == ["link.listen"]
    assert "north, south" in found["link.listen"]
    assert "port: 4443" in found["link.listen"]


def test_one_pin_for_two_dial_out_offices_is_refused_naming_both() -> None:
    found = problems(text(south_pin=PIN))

    assert list(found) == ["tenants.south.pins"]
    assert "north and south" in found["tenants.south.pins"]
    assert PIN in found["tenants.south.pins"]


def test_an_unknown_mode_is_refused() -> None:
    found = problems(text().replace("mode: dial_out", "mode: dial-out", 1))

    assert list(found) == ["tenants.north.mode"]
    assert "dial_out" in found["tenants.north.mode"]


def test_the_listener_port_is_checked() -> None:
    found = problems(text(listener=", listen: {port: 70000}"))

    assert list(found) == ["link.listen.port"]
