"""``portico-agent``: the agent's command line, one module per verb group.

- ``main``: the parser and the entry point;
- ``config_file``: reading agent.yaml for a verb (imported by every group, imports none);
- ``server``: init-keys, run, migrate, embed-code, check, config validate;
- ``demo``: seed-demo;
- ``staff``: invite, access, patients duplicates, email change, audit;
- ``messages``, ``forms``: the staff's messages and forms groups;
- ``runner``: how a staff verb opens the database and runs as ``staff:<user>``.
"""

from __future__ import annotations

# The console script (setup.cfg: `portico-agent = agent.cli:main`) and `python -m agent.cli`
# name the package; `main` is its one public name.
from agent.cli.main import main

__all__ = ["main"]
