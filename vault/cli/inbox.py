"""Placeholder: `vault inbox`, `vault mute`, `vault unmute` (issue 13)."""

COMMANDS: list = []
