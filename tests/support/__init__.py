"""The harness every test area shares: real MariaDB databases (`database`), the small practice
and its in-process agent (`practice`), link identities and certificates (`keys`), daemons run
as real processes (`daemons`) and under a pretend systemd (`systemd`), captured JSON logs
(`logs`) and a recording SMTP server (`smtp`).

Tests and `bench/` import these modules; nothing here imports a test module.
"""
