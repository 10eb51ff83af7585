"""Placeholder: `vault report`, `vault check-report` (issue 13)."""

COMMANDS: list = []
