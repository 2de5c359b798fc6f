"""``portico-agent check``: is this server ready to run the agent?

- ``run``: the command (config, link key, time zone and clock items; the order of all items);
- ``files``: the files the config names, readable by the service's user;
- ``network``: the link port, the metrics port, mail;
- ``portal``: in dial_out mode, each portal endpoint reached and pinned, and no open link port;
- ``database``: reachable, schema current, grants, the database server's clock;
- ``refusals``: why the database turned the check away, and the fix;
- ``openemr``, ``openemr_grants``: the same for ``practice.system: openemr`` (which OpenEMR,
  its time zone, the rights on its database and Portico's own);
- ``grants``: the pure reading of SHOW GRANTS, and the statements that fix them.

How an item's result prints is shared with ``portico-proxy check``:
:mod:`protocol.service.check_report`.
"""
