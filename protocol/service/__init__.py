"""What both daemons need to run as services, beside the link: the service kit.

The agent and the proxy may not import each other, so what they share lives here: config
reporting (:mod:`.config_report`), reloading (:mod:`.reload`), the config rules both files
share (:mod:`.fields`), structured logging (:mod:`.logs`), the service manager's signals and
sd_notify (:mod:`.notify`), the metrics endpoint (:mod:`.metrics_endpoint`), the lines both
``check`` commands print (:mod:`.check_report`) and what every command-line verb does around
itself (:mod:`.verbs`).

The link core (the rest of :mod:`protocol`) never imports this package: it pulls in pydantic,
PyYAML, aiohttp and prometheus_client, none of which the link needs.
"""
