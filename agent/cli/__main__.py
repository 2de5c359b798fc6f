"""`python -m agent.cli`: the same as the installed `portico-agent` script."""

from __future__ import annotations

from agent.cli.main import main

raise SystemExit(main())
