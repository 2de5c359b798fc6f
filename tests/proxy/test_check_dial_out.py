"""`portico-proxy check` with dial_out offices: the link listener's port must be free (or held by
the running proxy), and dial_out offices are listed with their pins, not dialled."""

from __future__ import annotations

import socket

import yaml

from tests.proxy.agent_fixtures import PRACTICE_NAME, SUBDOMAIN, ProxySetup, closed_port
from tests.proxy.dial_in_fixtures import dial_out_tenant
from tests.proxy.test_check import lines, run, write


def test_a_dial_out_office_is_listed_and_the_link_port_checked(proxy_setup: ProxySetup) -> None:
    link_port = closed_port()
    path = write(proxy_setup, {SUBDOMAIN: dial_out_tenant([proxy_setup.agent_pin], PRACTICE_NAME)})
    data = yaml.safe_load(path.read_text())
    data["link"]["listen"] = {"host": "127.0.0.1", "port": link_port}
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    status, out = run(path, timeout=2.0)

    found = lines(out)
    assert status == 0, out
    assert found["link listen port"] == ("OK", f"127.0.0.1:{link_port} is free")
    state, summary = found[f"agent {SUBDOMAIN}"]
    assert state == "OK" and "dials in" in summary and proxy_setup.agent_pin in summary
    assert out.splitlines()[-1].endswith("(0 of 0 agents OK, 1 dial in)")

    with socket.socket() as holder:  # another program on the link port
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", link_port))
        holder.listen()
        status, out = run(path, timeout=2.0)
    assert status == 1
    assert lines(out)["link listen port"] == (
        "FAIL",
        f"127.0.0.1:{link_port} is in use by another program",
    )
