"""Issue 11: "It must check that the metrics port is free. (Also the proxy's check for its
metrics port.)"

The replica serves Prometheus metrics on metrics.host:metrics.port (127.0.0.1:9124). Held by
another program, the replica would run without metrics: `portico-proxy check` warns and says how
to find the program.
"""

from __future__ import annotations

import socket

from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup, closed_port
from tests.proxy.test_check import lines, run, write


def test_a_metrics_port_held_by_another_program_warns(proxy_setup: ProxySetup) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        path = write(
            proxy_setup,
            {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())},
            metrics={"enabled": True, "host": "127.0.0.1", "port": port},
        )

        _, out = run(path, timeout=0.3)

    status, summary = lines(out)["metrics"]
    assert (status, summary) == (
        "WARN",
        f"127.0.0.1:{port} is in use by another program: the proxy would run without metrics",
    )
    assert f"ss -ltnp 'sport = :{port}'" in out


def test_a_free_metrics_port_is_ok(proxy_setup: ProxySetup) -> None:
    port = closed_port()
    path = write(
        proxy_setup,
        {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())},
        metrics={"enabled": True, "host": "127.0.0.1", "port": port},
    )

    _, out = run(path, timeout=0.3)

    assert lines(out)["metrics"] == ("OK", f"127.0.0.1:{port} is free")
