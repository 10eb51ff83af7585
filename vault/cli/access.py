"""Placeholder: `vault ask` (issue 13)."""

COMMANDS: list = []
