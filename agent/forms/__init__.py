"""Forms defined in YAML, assigned to patients, filled in and submitted in the portal."""
